//! The registry's vocabularies (一户一档): every coded value with its Chinese label, and which
//! special-group tags are sensitive.
use crate::error::Msg;

/// A closed list of codes with Chinese labels, and the other spellings offices use in their
/// sheets for some of them (`("高中", "senior")`).
pub struct Vocab {
    pub name_zh: &'static str,
    pub name_en: &'static str,
    pub items: &'static [(&'static str, &'static str)],
    pub aliases: &'static [(&'static str, &'static str)],
}

impl Vocab {
    pub fn contains(&self, code: &str) -> bool {
        self.items.iter().any(|(c, _)| *c == code)
    }
    pub fn label(&self, code: &str) -> Option<&'static str> {
        self.items.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
    }
    /// Accepts a code, its Chinese label or a common other spelling (as typed in a spreadsheet,
    /// full-width spaces and all); returns the code.
    pub fn parse(&self, s: &str) -> Result<&'static str, Msg> {
        let s = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{3000}');
        self.items
            .iter()
            .find(|(c, l)| *c == s || *l == s)
            .map(|(c, _)| *c)
            .or_else(|| self.aliases.iter().find(|(a, _)| *a == s).map(|(_, c)| *c))
            .ok_or_else(|| {
                let list = self
                    .items
                    .iter()
                    .map(|(_, l)| *l)
                    .collect::<Vec<_>>()
                    .join("、");
                let codes = self
                    .items
                    .iter()
                    .map(|(c, _)| *c)
                    .collect::<Vec<_>>()
                    .join(", ");
                Msg::owned(
                    format!("{}应为：{list}", self.name_zh),
                    format!("{} must be one of: {codes}", self.name_en),
                )
            })
    }
}

pub const DWELLING_USAGE: Vocab = Vocab {
    name_zh: "房屋用途",
    name_en: "Dwelling use",
    items: &[
        ("self_occupied", "自住"),
        ("rented", "出租"),
        ("vacant", "空置"),
        ("commercial", "商用"),
        ("other", "其他"),
    ],
    aliases: &[
        ("自用", "self_occupied"),
        ("自有", "self_occupied"),
        ("自住房", "self_occupied"),
        ("租赁", "rented"),
        ("出租房", "rented"),
        ("租住", "rented"),
        ("空房", "vacant"),
        ("闲置", "vacant"),
        ("商铺", "commercial"),
        ("门面", "commercial"),
        ("经营", "commercial"),
    ],
};

pub const HOUSEHOLD_KIND: Vocab = Vocab {
    name_zh: "户类型",
    name_en: "Household type",
    items: &[
        ("registered", "户籍户"),
        ("resident", "常住户"),
        ("floating", "流动人口户"),
        ("collective", "集体户"),
    ],
    aliases: &[],
};

pub const RELATION: Vocab = Vocab {
    name_zh: "与户主关系",
    name_en: "Relation to the head",
    items: &[
        ("head", "户主"),
        ("spouse", "配偶"),
        ("child", "子女"),
        ("parent", "父母"),
        ("other", "其他"),
    ],
    aliases: &[
        ("本人", "head"),
        ("户主本人", "head"),
        ("妻", "spouse"),
        ("夫", "spouse"),
        ("妻子", "spouse"),
        ("丈夫", "spouse"),
        ("子", "child"),
        ("女", "child"),
        ("儿子", "child"),
        ("女儿", "child"),
        ("长子", "child"),
        ("长女", "child"),
        ("次子", "child"),
        ("次女", "child"),
        ("父亲", "parent"),
        ("母亲", "parent"),
        ("父", "parent"),
        ("母", "parent"),
    ],
};

pub const ID_TYPE: Vocab = Vocab {
    name_zh: "证件类型",
    name_en: "ID type",
    items: &[
        ("id_card", "居民身份证"),
        ("passport", "护照"),
        ("hk_macao_permit", "港澳居民来往内地通行证"),
        ("taiwan_permit", "台湾居民来往大陆通行证"),
        ("residence_permit", "港澳台居民居住证"),
    ],
    aliases: &[
        ("身份证", "id_card"),
        ("二代身份证", "id_card"),
        ("居民身份证号", "id_card"),
        ("港澳通行证", "hk_macao_permit"),
        ("台胞证", "taiwan_permit"),
        ("居住证", "residence_permit"),
    ],
};

pub const GENDER: Vocab = Vocab {
    name_zh: "性别",
    name_en: "Gender",
    items: &[("male", "男"), ("female", "女")],
    aliases: &[
        ("男性", "male"),
        ("女性", "female"),
        ("M", "male"),
        ("F", "female"),
    ],
};

pub const POLITICAL_STATUS: Vocab = Vocab {
    name_zh: "政治面貌",
    name_en: "Political status",
    items: &[
        ("masses", "群众"),
        ("cpc_member", "中共党员"),
        ("cpc_probationary", "预备党员"),
        ("cyl_member", "共青团员"),
        ("democratic_party", "民主党派"),
        ("non_partisan", "无党派人士"),
    ],
    aliases: &[
        ("党员", "cpc_member"),
        ("中共党员（正式）", "cpc_member"),
        ("中国共产党党员", "cpc_member"),
        ("预备", "cpc_probationary"),
        ("中共预备党员", "cpc_probationary"),
        ("团员", "cyl_member"),
        ("无党派", "non_partisan"),
        ("民主党派成员", "democratic_party"),
    ],
};

pub const EDUCATION: Vocab = Vocab {
    name_zh: "学历",
    name_en: "Education",
    items: &[
        ("none", "未上学"),
        ("primary", "小学"),
        ("junior", "初中"),
        ("senior", "高中/中专"),
        ("college", "大专"),
        ("bachelor", "本科"),
        ("postgraduate", "研究生"),
    ],
    aliases: &[
        ("高中", "senior"),
        ("中专", "senior"),
        ("职高", "senior"),
        ("技校", "senior"),
        ("中技", "senior"),
        ("高中及中专", "senior"),
        ("专科", "college"),
        ("大学专科", "college"),
        ("高职", "college"),
        ("大学本科", "bachelor"),
        ("大学", "bachelor"),
        ("学士", "bachelor"),
        ("硕士", "postgraduate"),
        ("博士", "postgraduate"),
        ("研究生及以上", "postgraduate"),
        ("文盲", "none"),
        ("无", "none"),
        ("小学及以下", "primary"),
        ("学龄前", "none"),
    ],
};

pub const RESIDENCE_TYPE: Vocab = Vocab {
    name_zh: "居住类型",
    name_en: "Residence type",
    items: &[
        ("hukou", "户籍"),
        ("resident", "常住"),
        ("floating", "流动"),
        ("overseas", "境外"),
    ],
    aliases: &[
        ("户籍人口", "hukou"),
        ("本地", "hukou"),
        ("户在人在", "hukou"),
        ("常住人口", "resident"),
        ("人在户不在", "resident"),
        ("流动人口", "floating"),
        ("外来人口", "floating"),
        ("暂住", "floating"),
        ("境外人员", "overseas"),
        ("外籍", "overseas"),
    ],
};

/// Special groups. The sensitive ones are encrypted at rest and visible to fewer roles.
pub const TAGS: Vocab = Vocab {
    name_zh: "特殊人群标签",
    name_en: "Special-group tag",
    items: &[
        ("living_alone_elderly", "独居老人"),
        ("empty_nest_elderly", "空巢老人"),
        ("left_behind_child", "留守儿童"),
        ("disabled", "残疾人"),
        ("subsistence", "低保"),
        ("extreme_poverty", "特困"),
        ("entitled_group", "优抚对象"),
        ("key_attention", "重点关注人员"),
    ],
    aliases: &[
        ("独居", "living_alone_elderly"),
        ("空巢", "empty_nest_elderly"),
        ("留守", "left_behind_child"),
        ("残疾", "disabled"),
        ("低保户", "subsistence"),
        ("特困人员", "extreme_poverty"),
        ("优抚", "entitled_group"),
    ],
};

pub const SENSITIVE_TAGS: &[&str] = &[
    "disabled",
    "subsistence",
    "extreme_poverty",
    "key_attention",
];

pub fn is_sensitive_tag(code: &str) -> bool {
    SENSITIVE_TAGS.contains(&code)
}

pub const VISIT_MODE: Vocab = Vocab {
    name_zh: "走访方式",
    name_en: "Visit mode",
    items: &[("in_person", "入户"), ("phone", "电话"), ("online", "线上")],
    aliases: &[],
};

pub const NEED_CATEGORY: Vocab = Vocab {
    name_zh: "需求类别",
    name_en: "Need category",
    items: &[
        ("elderly_care", "养老"),
        ("medical", "医疗"),
        ("employment", "就业"),
        ("relief", "救助"),
        ("repair", "维修"),
        ("dispute", "矛盾纠纷"),
        ("other", "其他"),
    ],
    aliases: &[],
};

pub const URGENCY: Vocab = Vocab {
    name_zh: "紧急程度",
    name_en: "Urgency",
    items: &[("low", "一般"), ("medium", "较急"), ("high", "紧急")],
    aliases: &[],
};

pub const CHANGE_REASON: Vocab = Vocab {
    name_zh: "变更原因",
    name_en: "Reason",
    items: &[
        ("create", "建档"),
        ("move_in", "入住"),
        ("move_out", "迁出"),
        ("birth", "出生"),
        ("death", "死亡"),
        ("head_change", "户主变更"),
        ("owner_change", "业主变更"),
        ("correction", "信息更正"),
        ("verify", "核实无变化"),
        ("delete", "删除"),
        ("purge", "过期清除"),
    ],
    aliases: &[],
};

/// Days after which a record needs verifying again: rented dwellings every 90 days, others 365.
pub fn freshness_days(dwelling_usage: &str) -> i64 {
    if dwelling_usage == "rented" {
        90
    } else {
        365
    }
}

/// A real date, written `YYYY-MM-DD`, `YYYY/M/D` (as Excel in China saves it), `YYYY.M.D` or
/// `YYYY年M月D日`; returned as `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Result<String, Msg> {
    let t = s.trim().trim_end_matches('日');
    let parts: Vec<&str> = t.split(['-', '/', '.', '年', '月']).collect();
    let parsed = match parts.as_slice() {
        [y, m, d] if y.len() == 4 && (1..=2).contains(&m.len()) && (1..=2).contains(&d.len()) => y
            .parse::<u32>()
            .ok()
            .zip(m.parse::<u32>().ok())
            .zip(d.parse::<u32>().ok())
            .map(|((y, m), d)| (y, m, d)),
        _ => None,
    };
    match parsed {
        Some((y, m, d)) if (1900..=2200).contains(&y) && super::ids::valid_date(y, m, d) => {
            Ok(format!("{y:04}-{m:02}-{d:02}"))
        }
        _ => Err(Msg::new(
            "日期格式应为 YYYY-MM-DD（如 1988-05-12）",
            "Use a date such as 1988-05-12",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vocabularies_take_codes_or_labels() {
        assert_eq!(DWELLING_USAGE.parse("出租").unwrap(), "rented");
        assert_eq!(DWELLING_USAGE.parse("rented").unwrap(), "rented");
        assert!(DWELLING_USAGE
            .parse("宫殿")
            .unwrap_err()
            .zh
            .contains("自住"));
        assert!(is_sensitive_tag("subsistence"));
        assert!(!is_sensitive_tag("living_alone_elderly"));
        assert_eq!(TAGS.label("key_attention"), Some("重点关注人员"));
    }

    #[test]
    fn dates() {
        assert_eq!(parse_date("2024-02-29").unwrap(), "2024-02-29");
        assert!(parse_date("2023-02-29").is_err());
        assert_eq!(parse_date("1988/5/12").unwrap(), "1988-05-12");
        assert_eq!(parse_date("1988年5月12日").unwrap(), "1988-05-12");
        assert!(parse_date("88/5/12").is_err());
        assert!(parse_date("2024-13-01").is_err());
    }
}
