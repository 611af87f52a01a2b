//! Issue 13 point 10: the console kept in step with the API by a check. Every call the console's
//! source makes with a literal path (`http.get('/questions', …)`, `request('POST', `/cases/${id}/…`)`)
//! must name an operation of the OpenAPI document, with its method — so a route renamed or removed
//! on the server fails here, not on a user's screen.
use std::collections::BTreeSet;

use crate::helpers::*;

/// The console's source files (.js, .vue) under `console/src`.
fn sources() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../console/src");
    let mut out = vec![];
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "js" || x == "vue") {
                out.push((
                    p.display().to_string(),
                    std::fs::read_to_string(&p).unwrap(),
                ));
            }
        }
    }
    out
}

/// `(method, path)` of each call with a literal path; `${…}` becomes one `*` segment, a query or a
/// format suffix built at run time is cut off.
fn calls(src: &str) -> Vec<(String, String)> {
    let mut out = vec![];
    let forms: [(&str, Option<&str>); 6] = [
        ("http.get(", Some("GET")),
        ("http.post(", Some("POST")),
        ("http.put(", Some("PUT")),
        ("http.patch(", Some("PATCH")),
        ("http.del(", Some("DELETE")),
        ("request(", None),
    ];
    for (needle, method) in forms {
        let mut rest = src;
        while let Some(i) = rest.find(needle) {
            rest = &rest[i + needle.len()..];
            let mut s = rest.trim_start();
            let method = match method {
                Some(m) => m.to_string(),
                None => {
                    // request('GET', '/path' …)
                    let Some(q) = s.strip_prefix('\'') else {
                        continue;
                    };
                    let Some(end) = q.find('\'') else { continue };
                    let m = q[..end].to_string();
                    if !matches!(m.as_str(), "GET" | "POST" | "PUT" | "PATCH" | "DELETE") {
                        continue;
                    }
                    s = q[end + 1..]
                        .trim_start()
                        .trim_start_matches(',')
                        .trim_start();
                    m
                }
            };
            let Some(quote) = s.chars().next().filter(|c| matches!(c, '\'' | '`' | '"')) else {
                continue;
            };
            let body = &s[1..];
            let Some(end) = body.find(quote) else {
                continue;
            };
            let lit = &body[..end];
            if !lit.starts_with('/') {
                continue;
            }
            // Template holes → one segment; stop at a query or a hole inside a segment's tail.
            let mut path = String::new();
            let mut chars = lit.chars().peekable();
            while let Some(c) = chars.next() {
                match c {
                    '$' if chars.peek() == Some(&'{') => {
                        let mut depth = 0;
                        for d in chars.by_ref() {
                            if d == '{' {
                                depth += 1;
                            } else if d == '}' {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                        }
                        path.push('*');
                    }
                    '?' => break,
                    _ => path.push(c),
                }
            }
            out.push((method, path));
        }
    }
    out
}

/// Whether `path` (segments, `*` for a hole, possibly `x.*` for a format built at run time) is
/// the OpenAPI path `template` (segments, `{name}` for a parameter).
fn fits(path: &str, template: &str) -> bool {
    let a: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let b: Vec<&str> = template.trim_end_matches('/').split('/').collect();
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| (y.starts_with('{') && y.ends_with('}')) || glob(x, y))
}

/// `x` with `*` standing for any run of characters (a hole filled at run time) matches `y`.
fn glob(x: &str, y: &str) -> bool {
    match x.split_once('*') {
        None => x == y,
        Some((head, tail)) => {
            y.starts_with(head)
                && (head.len()..=y.len()).any(|i| y.is_char_boundary(i) && glob(tail, &y[i..]))
        }
    }
}

/// `(METHOD, path)` of every operation of the OpenAPI document, the path without `/api/v1`.
fn operations(app: &TestApp) -> Vec<(String, String)> {
    let doc: serde_json::Value = serde_json::from_str(&app.state.openapi_json).unwrap();
    doc["paths"]
        .as_object()
        .unwrap()
        .iter()
        .flat_map(|(p, item)| {
            item.as_object().unwrap().keys().map(move |m| {
                (
                    m.to_uppercase(),
                    p.trim_start_matches("/api/v1").to_string(),
                )
            })
        })
        .collect()
}

#[tokio::test]
async fn every_call_the_console_makes_names_an_operation_of_the_api() {
    let app = spawn_app().await;
    let ops = operations(&app);
    let mut checked = 0;
    let mut missing = BTreeSet::new();
    for (file, src) in sources() {
        for (method, path) in calls(&src) {
            checked += 1;
            // The document itself is served beside the API, not in it.
            if path == "/api/openapi.json" {
                continue;
            }
            if !ops.iter().any(|(m, t)| *m == method && fits(&path, t)) {
                missing.insert(format!("{method} {path}  ({file})"));
            }
        }
    }
    assert!(checked > 150, "the console's calls were found: {checked}");
    assert!(
        missing.is_empty(),
        "the console calls operations the API does not have:\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// The routes the console's mock server (`console/mock/*.mjs`, for working on the console without a
/// server) answers: `(method or "", path)` from `p === '/x' && m === 'GET'` (the method when the line
/// names one) and, for `p.match(/^\/x\/([^/]+)(…)?$/)`, the path without its optional tail.
fn mock_routes(src: &str) -> Vec<(String, String)> {
    let mut out = vec![];
    for line in src.lines() {
        // The method a condition names right after the path (`… && m === 'GET'`), else any.
        let method_after = |tail: &str| -> String {
            tail.trim_start()
                .strip_prefix("&& m === '")
                .and_then(|t| t.split('\'').next())
                .unwrap_or("")
                .to_string()
        };
        let mut rest = line;
        while let Some(i) = rest.find("p === '") {
            // `p`, not the end of another name (`stop === '…'`).
            let own = i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
            rest = &rest[i + 7..];
            if let (true, Some(end)) = (own, rest.find('\'')) {
                out.push((method_after(&rest[end + 1..]), rest[..end].to_string()));
            }
        }
        let method = method_after(line.split("$/))").nth(1).unwrap_or(""));
        if let Some(i) = line.find("p.match(/^") {
            let re = &line[i + 10..];
            let Some(end) = re.find("$/)") else { continue };
            let mut re = re[..end].to_string();
            // Drop optional groups (innermost first), then make the captures holes.
            while let Some(close) = re.find(")?") {
                let open = re[..close].rfind('(').unwrap_or(0);
                re.replace_range(open..close + 2, "");
            }
            let path = re
                .replace("([^/]+)", "*")
                .replace("(\\d{4})", "*")
                .replace("(\\d+)", "*")
                .replace("\\/", "/")
                .replace("\\.", ".");
            if !path.contains(['(', '[', '\\', '|', '+']) {
                out.push((method.clone(), path));
            }
        }
    }
    out
}

#[tokio::test]
async fn every_route_of_the_console_mock_is_an_operation_of_the_api() {
    let app = spawn_app().await;
    let ops = operations(&app);
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../console/mock");
    let mut checked = 0;
    let mut missing = BTreeSet::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.extension().is_none_or(|x| x != "mjs") {
            continue;
        }
        let src = std::fs::read_to_string(&p).unwrap();
        for (method, path) in mock_routes(&src) {
            checked += 1;
            let known = ops
                .iter()
                .any(|(m, t)| (method.is_empty() || *m == method) && fits(&path, t));
            if !known {
                missing.insert(format!("{method} {path}  ({})", p.display()));
            }
        }
    }
    assert!(checked > 120, "the mock's routes were found: {checked}");
    assert!(
        missing.is_empty(),
        "the console mock answers routes the API does not have (rename or remove them):\n{}",
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
}

/// The message catalogues are data (`console/src/i18n/<part>.<lang>.json`): every message has its
/// Chinese and its English text, with the same `{placeholders}`, so neither language shows a key or
/// loses a number.
#[test]
fn every_message_of_the_console_has_both_languages_with_the_same_placeholders() {
    fn flat(
        prefix: &str,
        v: &serde_json::Value,
        out: &mut std::collections::BTreeMap<String, String>,
    ) {
        match v {
            serde_json::Value::Object(m) => m
                .iter()
                .for_each(|(k, v)| flat(&format!("{prefix}{k}."), v, out)),
            other => {
                out.insert(prefix.trim_end_matches('.').to_string(), other.to_string());
            }
        }
    }
    fn placeholders(s: &str) -> std::collections::BTreeSet<&str> {
        s.split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}'))
            .map(|(name, _)| name)
            .collect()
    }
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../console/src/i18n");
    let read = |name: &str| -> std::collections::BTreeMap<String, String> {
        let text =
            std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut out = std::collections::BTreeMap::new();
        flat("", &serde_json::from_str(&text).expect(name), &mut out);
        out
    };
    let mut parts = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        let Some(part) = name.strip_suffix(".zh-CN.json") else {
            continue;
        };
        parts += 1;
        let (zh, en) = (read(&name), read(&format!("{part}.en.json")));
        let missing: Vec<_> = zh.keys().filter(|k| !en.contains_key(*k)).collect();
        let extra: Vec<_> = en.keys().filter(|k| !zh.contains_key(*k)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{part}: no English for {missing:?}; no Chinese for {extra:?}"
        );
        for (k, text) in &zh {
            assert_eq!(
                placeholders(text),
                placeholders(&en[k]),
                "{part}: {k}: {text} / {}",
                en[k]
            );
        }
    }
    assert!(
        parts >= 9,
        "the catalogues were not found in {}",
        dir.display()
    );
}
