//! The simulated web's content, generated deterministically from (host, article
//! id, variant) so that a test can predict what any page says and two runs of the
//! same benchmark fetch the same bytes.
//!
//! The generator is a hand-written splitmix64 rather than `rand`'s generators:
//! their streams are not promised stable across releases, and a dependency bump
//! must not change every page (and every archived hash in a test's expectations).

use std::fmt::Write as _;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Which text an article page carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Variant {
    /// The text as first published (and as cited).
    Original,
    /// Same headline, substantially different paragraphs: a page rewritten after
    /// it was cited.
    Rewritten,
    /// A Chinese article, served GBK-encoded like many older Chinese sites.
    Gbk,
}

impl Variant {
    fn salt(self) -> u64 {
        match self {
            Variant::Original => 0x0123_4567,
            Variant::Rewritten => 0x89ab_cdef,
            Variant::Gbk => 0x5eed_0c4b,
        }
    }
}

/// splitmix64: tiny, fast, and its output is fixed by its definition.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(parts: &[u64]) -> Rng {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for &p in parts {
            state = mix(state ^ p);
        }
        Rng(state)
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// A number in `lo..=hi` (`lo` when the range is empty).
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    fn pick<'a>(&mut self, words: &[&'a str]) -> &'a str {
        let len = words.len() as u64;
        if len == 0 {
            return "";
        }
        words[(self.next_u64() % len) as usize]
    }

    /// A uniform number in `[0, 1)`.
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const WORDS: &[&str] = &[
    "the",
    "provincial",
    "authorities",
    "reported",
    "agreement",
    "technology",
    "transfer",
    "vaccination",
    "personnel",
    "according",
    "state",
    "media",
    "committee",
    "national",
    "official",
    "document",
    "revealed",
    "international",
    "cooperation",
    "project",
    "economic",
    "growth",
    "trade",
    "policy",
    "ministry",
    "announced",
    "measures",
    "regional",
    "development",
    "investment",
    "security",
    "public",
    "health",
    "infrastructure",
    "research",
    "institute",
    "foreign",
    "delegation",
    "meeting",
    "statement",
    "spokesperson",
    "government",
    "council",
    "industry",
    "energy",
    "export",
    "market",
    "financial",
    "services",
    "local",
    "residents",
    "village",
    "county",
    "city",
    "planning",
    "reform",
    "supervision",
    "campaign",
    "standards",
    "performance",
    "indicators",
    "experts",
    "universities",
    "innovation",
    "quarantine",
    "transportation",
    "logistics",
    "border",
    "customs",
    "imported",
    "rural",
    "urban",
    "income",
    "budget",
    "evaluation",
    "strategy",
    "partners",
    "negotiations",
    "progress",
    "challenges",
    "and",
    "of",
    "in",
    "for",
    "with",
    "on",
    "that",
    "a",
    "to",
    "its",
];

const HEADLINE_WORDS: &[&str] = &[
    "Authorities",
    "Announce",
    "New",
    "Standards",
    "Trade",
    "Agreement",
    "Provincial",
    "Officials",
    "Vaccination",
    "Campaign",
    "Begins",
    "Technology",
    "Transfer",
    "Ministry",
    "Reports",
    "Growth",
    "Energy",
    "Project",
    "Border",
    "Customs",
    "Reform",
    "Council",
    "Delegation",
    "Visits",
    "Rural",
    "Income",
    "Rises",
    "Investment",
    "Plan",
    "Faces",
    "Challenges",
    "Research",
    "Institute",
    "Security",
    "Review",
    "Budget",
];

const ZH_WORDS: &[&str] = &[
    "据报道",
    "新华社",
    "省政府",
    "有关部门",
    "国际合作",
    "技术转移",
    "疫苗接种",
    "重点人员",
    "经济增长",
    "对外贸易",
    "发展规划",
    "基础设施",
    "公共卫生",
    "科研机构",
    "专家表示",
    "会议指出",
    "进一步",
    "加强",
    "推进",
    "落实",
    "工作",
    "项目",
    "地区",
    "城市",
    "农村",
    "居民",
    "收入",
    "市场",
    "企业",
    "投资",
    "政策",
    "措施",
    "标准",
    "考核",
    "指标",
    "创新",
    "改革",
    "安全",
    "能源",
    "海关",
    "口岸",
    "物流",
    "运输",
    "预算",
    "评估",
    "战略",
    "伙伴",
    "谈判",
    "进展",
    "挑战",
    "发布",
    "通知",
    "要求",
    "全面",
    "持续",
    "有效",
    "重要",
    "部署",
];

const SECTIONS: &[(&str, &str)] = &[
    ("politics", "Politics"),
    ("economy", "Economy"),
    ("world", "World"),
    ("technology", "Technology"),
    ("society", "Society"),
];

const REPORTERS: &[&str] = &[
    "Li Wei",
    "Zhang Min",
    "Wang Fang",
    "Chen Jie",
    "Liu Yang",
    "Staff Reporter",
];

/// The outlet a host plays; briefings cite it by this name.
pub(crate) fn outlet(host: usize) -> String {
    format!("Outlet {host}")
}

/// Every article is published (and cited) on a December 2020 day.
pub(crate) fn published_day(host: usize, id: u64) -> u32 {
    let mut rng = Rng::new(&[host as u64, id, 0xda7e]);
    rng.range(1, 31) as u32
}

/// The article's headline; shared by the page, its related-article links and the
/// briefing items that cite it.
pub(crate) fn headline(host: usize, id: u64) -> String {
    let mut rng = Rng::new(&[host as u64, id, 0x4ead]);
    let n = rng.range(6, 10) as usize;
    let mut words: Vec<&str> = Vec::with_capacity(n);
    while words.len() < n {
        let w = rng.pick(HEADLINE_WORDS);
        if !words.contains(&w) {
            words.push(w);
        }
    }
    words.join(" ")
}

fn zh_headline(host: usize, id: u64) -> String {
    let mut rng = Rng::new(&[host as u64, id, 0x2e4d]);
    let n = rng.range(4, 7);
    let mut s = String::new();
    for _ in 0..n {
        s.push_str(rng.pick(ZH_WORDS));
    }
    s
}

fn sentence(rng: &mut Rng, out: &mut String) {
    let n = rng.range(8, 22);
    for i in 0..n {
        let w = rng.pick(WORDS);
        if i == 0 {
            let mut chars = w.chars();
            if let Some(c) = chars.next() {
                out.extend(c.to_uppercase());
                out.push_str(chars.as_str());
            }
        } else {
            out.push(' ');
            out.push_str(w);
        }
    }
    out.push_str(". ");
}

fn zh_sentence(rng: &mut Rng, out: &mut String) {
    let n = rng.range(6, 16);
    for i in 0..n {
        out.push_str(rng.pick(ZH_WORDS));
        if i + 1 < n && rng.range(0, 4) == 0 {
            out.push('，');
        }
    }
    out.push('。');
}

/// The first sentences of an article: what a briefing item summarises.
pub(crate) fn summary(host: usize, id: u64) -> String {
    let mut rng = paragraph_rng(host, id, Variant::Original);
    let mut s = String::new();
    for _ in 0..3 {
        sentence(&mut rng, &mut s);
    }
    s.trim_end().to_string()
}

fn paragraph_rng(host: usize, id: u64, variant: Variant) -> Rng {
    Rng::new(&[host as u64, id, variant.salt(), 0xb0d7])
}

/// Paragraphs of about `budget` bytes in total, `count` of them.
fn paragraphs(host: usize, id: u64, variant: Variant, count: u64, budget: usize) -> Vec<String> {
    let mut rng = paragraph_rng(host, id, variant);
    let per = budget / count.max(1) as usize;
    (0..count)
        .map(|_| {
            let mut p = String::with_capacity(per + 200);
            while p.len() < per {
                if variant == Variant::Gbk {
                    zh_sentence(&mut rng, &mut p);
                } else {
                    sentence(&mut rng, &mut p);
                }
            }
            p.truncate(p.trim_end().len());
            p
        })
        .collect()
}

/// An article page cut where a churning page differs from load to load: the
/// related-article list rotates and a generation stamp goes in the footer.
pub(crate) struct ArticleParts {
    pub(crate) head: String,
    pub(crate) related: Vec<String>,
    pub(crate) middle: String,
    pub(crate) tail: String,
}

impl ArticleParts {
    /// The page as a stable server sends it.
    pub(crate) fn stable(&self) -> Vec<u8> {
        self.assemble(0, "")
    }

    /// The page with the related list rotated by `rotate` and `stamp` in the
    /// footer.
    pub(crate) fn assemble(&self, rotate: usize, stamp: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(
            self.head.len() + self.middle.len() + self.tail.len() + 1200 + stamp.len(),
        );
        out.extend_from_slice(self.head.as_bytes());
        let n = self.related.len();
        for i in 0..n {
            out.extend_from_slice(self.related[(i + rotate) % n].as_bytes());
        }
        out.extend_from_slice(self.middle.as_bytes());
        out.extend_from_slice(stamp.as_bytes());
        out.extend_from_slice(self.tail.as_bytes());
        out
    }
}

fn nav(out: &mut String) {
    out.push_str("<header>\n<nav class=\"sections\">\n<a href=\"/\">Home</a>\n");
    for (slug, name) in SECTIONS {
        let _ = writeln!(out, "<a href=\"/#{slug}\">{name}</a>");
    }
    out.push_str("</nav>\n</header>\n");
}

fn footer_tail(out: &mut String, host: usize) {
    let _ = write!(
        out,
        "<p>&copy; 2020 {}. All rights reserved.</p>\n\
         <p><a href=\"/\">Home</a> | <a href=\"/#about\">About us</a> | \
         <a href=\"/#contact\">Contact</a></p>\n</footer>\n</body>\n</html>\n",
        outlet(host)
    );
}

/// An article page: head, nav, the article, related links, footer, 20–60 KB.
pub(crate) fn article(
    host: usize,
    id: u64,
    variant: Variant,
    articles_per_host: u64,
) -> ArticleParts {
    let zh = variant == Variant::Gbk;
    let mut rng = Rng::new(&[host as u64, id, 0x512e]);
    let target = rng.range(21_000, 56_000) as usize;
    let count = rng.range(8, 20);
    let day = published_day(host, id);
    let title = if zh {
        zh_headline(host, id)
    } else {
        headline(host, id)
    };
    let reporter = rng.pick(REPORTERS);

    let mut head = String::with_capacity(4096);
    let _ = write!(
        head,
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"{charset}\">\n\
         <title>{title} - {outlet}</title>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <style>body{{font-family:Georgia,serif;max-width:48em;margin:0 auto;line-height:1.5}}\
         nav a{{margin-right:1em}}.related li{{margin:.2em 0}}footer{{color:#666}}</style>\n\
         </head>\n<body>\n",
        lang = if zh { "zh-CN" } else { "en" },
        charset = if zh { "gbk" } else { "utf-8" },
        outlet = outlet(host),
    );
    nav(&mut head);
    let _ = write!(
        head,
        "<main>\n<article>\n<h1>{title}</h1>\n\
         <p class=\"byline\">By {reporter} | Published \
         <time datetime=\"2020-12-{day:02}\">December {day}, 2020</time></p>\n",
    );
    let mut others: Vec<u64> = Vec::with_capacity(8);
    for _ in 0..64 {
        if others.len() == 8 {
            break;
        }
        let other = (id + rng.range(1, 60)) % articles_per_host.max(1);
        if other != id && !others.contains(&other) {
            others.push(other);
        }
    }
    let related: Vec<String> = others
        .into_iter()
        .map(|other| {
            let text = if zh {
                zh_headline(host, other)
            } else {
                headline(host, other)
            };
            format!("<li><a href=\"/news/{other}.html\">{text}</a></li>\n")
        })
        .collect();
    let middle = String::from("</ul>\n</aside>\n</main>\n<footer>\n");
    let mut tail = String::new();
    footer_tail(&mut tail, host);

    let related_len: usize = related.iter().map(String::len).sum();
    let frame = head.len() + related_len + middle.len() + tail.len() + 200;
    let budget = target.saturating_sub(frame).max(4000);
    // Chinese characters take 3 bytes in UTF-8 but 2 in GBK: aim the UTF-8 text
    // at 3/2 of the byte budget so the encoded page lands in the same range.
    let text_budget = if zh { budget * 3 / 2 } else { budget };
    for p in paragraphs(host, id, variant, count, text_budget) {
        let _ = writeln!(head, "<p>{p}</p>");
    }
    let _ = write!(
        head,
        "</article>\n<aside class=\"related\">\n<h2>{}</h2>\n<ul>\n",
        if zh {
            "相关新闻"
        } else {
            "Related articles"
        }
    );
    ArticleParts {
        head,
        related,
        middle,
        tail,
    }
}

/// The homepage: section headings, each with links to a few articles.
pub(crate) fn homepage(host: usize, articles_per_host: u64) -> String {
    let mut s = String::with_capacity(8192);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{0} - Home</title>\n</head>\n<body>\n<h1>{0}</h1>\n",
        outlet(host)
    );
    nav(&mut s);
    s.push_str("<main>\n");
    let per_section = 8u64;
    for (i, (slug, name)) in SECTIONS.iter().enumerate() {
        let _ = write!(s, "<section id=\"{slug}\">\n<h2>{name}</h2>\n<ul>\n");
        for k in 0..per_section {
            let id = i as u64 * per_section + k;
            if id >= articles_per_host {
                break;
            }
            let _ = writeln!(
                s,
                "<li><a href=\"/news/{id}.html\">{}</a></li>",
                headline(host, id)
            );
        }
        s.push_str("</ul>\n</section>\n");
    }
    s.push_str(
        "<section id=\"about\"><h2>About us</h2><p>A simulated news outlet.</p></section>\n",
    );
    s.push_str("</main>\n<footer>\n");
    footer_tail(&mut s, host);
    s
}

/// An error page with the site's frame, as sites send for 404, 410 and, with
/// status 200, as a "soft 404".
pub(crate) fn error_page(host: usize, title: &str, message: &str) -> String {
    let mut s = String::with_capacity(2048);
    let _ = write!(
        s,
        "<!DOCTYPE html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n</head>\n<body>\n"
    );
    nav(&mut s);
    let _ = write!(
        s,
        "<main>\n<div class=\"error\">\n<h1>{title}</h1>\n<p>{message}</p>\n\
         <p><a href=\"/\">Return to the homepage</a> | <a href=\"/\">返回首页</a></p>\n\
         </div>\n</main>\n<footer>\n"
    );
    footer_tail(&mut s, host);
    s
}

/// A Last-Modified time fixed by the page's identity, in December 2020 (the
/// rewritten text a few months later).
pub(crate) fn last_modified(host: usize, id: u64, variant: Variant) -> SystemTime {
    // 2020-12-01T00:00:00Z
    const DEC_2020: u64 = 1_606_780_800;
    let day = u64::from(published_day(host, id)) - 1;
    let mut rng = Rng::new(&[host as u64, id, 0x1a57]);
    let mut secs = DEC_2020 + day * 86_400 + rng.range(6 * 3600, 20 * 3600);
    if variant == Variant::Rewritten {
        secs += 90 * 86_400;
    }
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn article_sizes_stay_in_range() {
        for host in 0..3 {
            for id in 0..40 {
                for variant in [Variant::Original, Variant::Rewritten] {
                    let len = article(host, id, variant, 100).stable().len();
                    assert!((20_000..=60_000).contains(&len), "{host}/{id}: {len}");
                }
            }
        }
    }

    #[test]
    fn content_is_deterministic() {
        assert_eq!(
            article(3, 17, Variant::Original, 100).stable(),
            article(3, 17, Variant::Original, 100).stable()
        );
        assert_ne!(headline(3, 17), headline(3, 18));
    }
}
