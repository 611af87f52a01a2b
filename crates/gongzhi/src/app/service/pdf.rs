//! A small PDF writer for printable sheets and certificates: A4 pages of text and rules in the
//! standard CJK font STSong-Light (Adobe-GB1, `UniGB-UCS2-H`), which every PDF reader supplies,
//! so nothing is embedded and a sheet is a few kilobytes. Text is written as UTF-16 code units;
//! characters outside the Basic Multilingual Plane are replaced by `?`.
use std::fmt::Write as _;

pub const A4_W: f32 = 595.0;
pub const A4_H: f32 = 842.0;

#[derive(Default)]
pub struct Pdf {
    pages: Vec<String>,
}

/// One page's content stream. Coordinates are points from the top-left corner.
pub struct Page<'a> {
    out: &'a mut String,
}

impl Pdf {
    pub fn new() -> Pdf {
        Pdf::default()
    }

    pub fn page(&mut self) -> Page<'_> {
        self.pages.push(String::new());
        Page {
            out: self.pages.last_mut().expect("just pushed"),
        }
    }

    pub fn finish(mut self) -> Vec<u8> {
        if self.pages.is_empty() {
            self.pages.push(String::new());
        }
        let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
        let mut offsets: Vec<usize> = vec![];
        let n_pages = self.pages.len();
        // Object numbers: 1 catalog, 2 pages, 3 font, 4 CID font, 5 descriptor, then page/content pairs.
        let kids: Vec<String> = (0..n_pages).map(|i| format!("{} 0 R", 6 + i * 2)).collect();
        let mut objects: Vec<Vec<u8>> = vec![
            b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
            format!("<< /Type /Pages /Kids [{}] /Count {n_pages} >>", kids.join(" ")).into_bytes(),
            b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [4 0 R] >>".to_vec(),
            b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> /FontDescriptor 5 0 R /DW 1000 /W [1 95 500] >>".to_vec(),
            b"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>".to_vec(),
        ];
        for (i, content) in self.pages.iter().enumerate() {
            objects.push(
                format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {A4_W} {A4_H}] /Resources << /Font << /F1 3 0 R >> >> /Contents {} 0 R >>",
                    7 + i * 2
                )
                .into_bytes(),
            );
            let mut s = format!("<< /Length {} >>\nstream\n", content.len()).into_bytes();
            s.extend_from_slice(content.as_bytes());
            s.extend_from_slice(b"\nendstream");
            objects.push(s);
        }
        for (i, o) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(o);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        let mut x = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
        for o in offsets {
            let _ = writeln!(x, "{o:010} 00000 n ");
        }
        let _ = write!(
            x,
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        );
        out.extend_from_slice(x.as_bytes());
        out
    }
}

/// The width of a text in points at `size` (full-width CJK, half-width ASCII).
pub fn width(text: &str, size: f32) -> f32 {
    text.chars()
        .map(|c| {
            if (c as u32) < 0x7f && c != '-' {
                size * 0.5
            } else {
                size
            }
        })
        .sum()
}

fn hex(text: &str) -> String {
    let mut s = String::with_capacity(text.len() * 4);
    for c in text.chars() {
        // The hyphen-minus is drawn as its full-width form: readers substituting a system font
        // for STSong-Light place the half-width one badly.
        let c = if (c as u32) > 0xFFFF || c.is_control() {
            '?'
        } else if c == '-' {
            '－'
        } else {
            c
        };
        let mut buf = [0u16; 2];
        for u in c.encode_utf16(&mut buf) {
            let _ = write!(s, "{:04X}", u);
        }
    }
    s
}

impl Page<'_> {
    /// Text with its top-left baseline at (x, y from the top).
    pub fn text(&mut self, x: f32, y: f32, size: f32, text: &str) {
        let _ = writeln!(
            self.out,
            "BT /F1 {size} Tf {x:.1} {:.1} Td <{}> Tj ET",
            A4_H - y,
            hex(text)
        );
    }

    /// Text centred on the page.
    pub fn centred(&mut self, y: f32, size: f32, text: &str) {
        self.text((A4_W - width(text, size)) / 2.0, y, size, text);
    }

    /// Text cut to fit `max` points, with an ellipsis.
    pub fn text_fit(&mut self, x: f32, y: f32, size: f32, text: &str, max: f32) {
        if width(text, size) <= max {
            return self.text(x, y, size, text);
        }
        let mut t = String::new();
        for c in text.chars() {
            if width(&t, size) + width(&c.to_string(), size) + size > max {
                break;
            }
            t.push(c);
        }
        t.push('…');
        self.text(x, y, size, &t);
    }

    /// Lines of text wrapped at `max` points; returns the y below the last line.
    pub fn paragraph(&mut self, x: f32, mut y: f32, size: f32, text: &str, max: f32) -> f32 {
        let mut line = String::new();
        for c in text.chars() {
            if c == '\n' || width(&line, size) + width(&c.to_string(), size) > max {
                self.text(x, y, size, &line);
                y += size * 1.6;
                line.clear();
                if c == '\n' {
                    continue;
                }
            }
            line.push(c);
        }
        if !line.is_empty() {
            self.text(x, y, size, &line);
            y += size * 1.6;
        }
        y
    }

    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, w: f32) {
        let _ = writeln!(
            self.out,
            "{w} w {x1:.1} {:.1} m {x2:.1} {:.1} l S",
            A4_H - y1,
            A4_H - y2
        );
    }

    pub fn rect(&mut self, x: f32, y: f32, w: f32, h: f32, lw: f32) {
        let _ = writeln!(
            self.out,
            "{lw} w {x:.1} {:.1} {w:.1} {h:.1} re S",
            A4_H - y - h
        );
    }
}

/// A table over as many pages as it needs: a title on each page, a header row, then rows.
pub fn table(
    pdf: &mut Pdf,
    title: &str,
    subtitle: &str,
    headers: &[(&str, f32)],
    rows: &[Vec<String>],
    footer: &str,
) {
    let left = 40.0;
    let size = 9.0;
    let row_h = 18.0;
    let mut chunks: Vec<&[Vec<String>]> = rows.chunks(36).collect();
    if chunks.is_empty() {
        chunks.push(&[]);
    }
    let pages = chunks.len();
    for (pi, chunk) in chunks.into_iter().enumerate() {
        let mut p = pdf.page();
        p.centred(50.0, 16.0, title);
        p.centred(72.0, 10.0, subtitle);
        let mut y = 96.0;
        let total: f32 = headers.iter().map(|h| h.1).sum();
        p.line(left, y, left + total, y, 0.8);
        let mut x = left;
        for (h, w) in headers {
            p.text_fit(x + 3.0, y + 12.5, size, h, w - 6.0);
            x += w;
        }
        y += row_h;
        p.line(left, y, left + total, y, 0.5);
        for r in chunk {
            let mut x = left;
            for (i, (_, w)) in headers.iter().enumerate() {
                p.text_fit(
                    x + 3.0,
                    y + 12.5,
                    size,
                    r.get(i).map(String::as_str).unwrap_or(""),
                    w - 6.0,
                );
                x += w;
            }
            y += row_h;
            p.line(left, y, left + total, y, 0.2);
        }
        p.text(
            left,
            A4_H - 30.0,
            8.0,
            &format!("{footer}    第 {} / {pages} 页", pi + 1),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_has_a_valid_cross_reference_table() {
        let mut pdf = Pdf::new();
        let mut p = pdf.page();
        p.text(40.0, 40.0, 12.0, "志愿服务记录证明 ABC 123");
        p.line(40.0, 50.0, 200.0, 50.0, 1.0);
        let bytes = pdf.finish();
        // One char per byte, so offsets stay byte offsets.
        let s: String = bytes
            .iter()
            .map(|&b| if b < 128 { b as char } else { '?' })
            .collect();
        assert!(s.starts_with("%PDF-1.4"));
        assert!(s.trim_end().ends_with("%%EOF"));
        // Every xref offset points at "N 0 obj".
        let xref_at: usize = s
            .rsplit("startxref\n")
            .next()
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        let table = &s[xref_at..];
        for (i, line) in table.lines().skip(3).take(7).enumerate() {
            let off: usize = line[..10].parse().unwrap();
            assert!(
                s[off..].starts_with(&format!("{} 0 obj", i + 1)),
                "object {} at {off}",
                i + 1
            );
        }
        // 志 is U+5FD7.
        assert!(s.contains("<5FD7"));
    }
}
