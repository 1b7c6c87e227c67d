//! A generated population of cases for the engine's tests: missing facts,
//! no enterprise, every district, grants of every kind, strings that need
//! escaping, and a few bad cases of each kind of error.

use chrono::NaiveDate;
use opcity_policy::Pack;
use serde_json::{Value, json};

/// A small deterministic generator (xorshift64*).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A date `days` around `base`, either way.
    pub fn date_around(&mut self, base: &str, days: i64) -> String {
        let base: NaiveDate = base.parse().unwrap();
        let offset = self.below(2 * days as u64 + 1) as i64 - days;
        (base + chrono::Duration::days(offset)).to_string()
    }
}

/// Sets a fact, except about 8% of the time (missing facts).
fn put(map: &mut serde_json::Map<String, Value>, rng: &mut Rng, key: &str, v: Value) {
    if !rng.chance(8) {
        map.insert(key.to_owned(), v);
    }
}

pub const AS_OF: [&str; 4] = ["2025-12-31", "2026-06-01", "2027-12-31", "2028-02-29"];

pub fn case(rng: &mut Rng, i: usize, programmes: &[&str]) -> Value {
    let mut person = serde_json::Map::new();
    let id = match rng.below(20) {
        0 => Value::Null,
        1 => json!(format!("p{i} \"quoted\" \\ 深圳 \u{1}\t")),
        2 => json!(format!("p{i}\u{7f}\u{2028}🦀")),
        _ => json!(format!("p{i:07}")),
    };
    if !id.is_null() || rng.chance(50) {
        person.insert("id".into(), id);
    }
    let birth = match rng.below(4) {
        // Around the 36th birthday on the evaluation dates.
        0 => rng.date_around("1990-06-01", 3),
        1 => rng.date_around("1991-12-31", 400),
        2 => rng
            .pick(&["1996-02-29", "2000-02-29", "1992-03-01"])
            .to_string(),
        _ => rng.date_around("1985-01-01", 6000),
    };
    put(&mut person, rng, "birth_date", json!(birth));
    let degree = *rng.pick(&["none", "associate", "bachelor", "master", "doctorate"]);
    put(&mut person, rng, "highest_degree", json!(degree));
    let degree_date = match rng.below(3) {
        0 => rng.date_around("2021-06-01", 3),
        1 => rng.date_around("2024-02-29", 800),
        _ => rng.date_around("2026-07-01", 60),
    };
    put(&mut person, rng, "degree_date", json!(degree_date));
    let overseas = rng.chance(30);
    put(&mut person, rng, "overseas_degree", json!(overseas));
    let hukou = match rng.below(5) {
        0 => Value::Null,
        1 => json!(*rng.pick(&["2025-12-31", "2026-01-01", "2026-06-01", "2026-06-02"])),
        _ => json!(rng.date_around("2026-03-01", 200)),
    };
    put(&mut person, rng, "hukou_shenzhen_since", hukou);
    for key in ["works_in_ai", "is_founder", "kunpeng_selected"] {
        let v = rng.chance(70);
        put(&mut person, rng, key, json!(v));
    }
    let high_level = rng.chance(10);
    put(&mut person, rng, "high_level_talent", json!(high_level));
    let mut case = serde_json::Map::new();
    case.insert("person".into(), Value::Object(person));
    // 30% without an enterprise.
    if rng.chance(70) {
        let mut e = serde_json::Map::new();
        if rng.chance(30) {
            put(&mut e, rng, "uscc", json!("91440300708461136T"));
        }
        let registered = rng.date_around("2025-06-01", 800);
        put(&mut e, rng, "registered_date", json!(registered));
        let district = *rng.pick(&[
            "futian",
            "luohu",
            "nanshan",
            "yantian",
            "baoan",
            "longgang",
            "longhua",
            "pingshan",
            "guangming",
            "dapeng",
        ]);
        put(&mut e, rng, "district", json!(district));
        for key in ["in_opc_community", "ai_business"] {
            let v = rng.chance(60);
            put(&mut e, rng, key, json!(v));
        }
        let size = *rng.pick(&["micro", "small", "medium", "large"]);
        put(&mut e, rng, "size", json!(size));
        for key in [
            "gov_deployed_product",
            "demonstration_project",
            "consortium_lead",
        ] {
            let v = rng.chance(20);
            put(&mut e, rng, key, json!(v));
        }
        case.insert("enterprise".into(), Value::Object(e));
    }
    // 40% with grants: open-ended, ended the day before, ending on the
    // date, starting later.
    if rng.chance(40) {
        let grants: Vec<Value> = (0..1 + rng.below(3))
            .map(|_| {
                let mut g = serde_json::Map::new();
                g.insert("programme".into(), json!(*rng.pick(programmes)));
                let from = rng.date_around("2025-06-01", 500);
                match rng.below(4) {
                    0 => {}
                    1 => {
                        g.insert("to".into(), Value::Null);
                    }
                    2 => {
                        // Ending on an evaluation date (ISO dates sort as text).
                        let to = (*rng.pick(&AS_OF)).max(from.as_str()).to_owned();
                        g.insert("to".into(), json!(to));
                    }
                    _ => {
                        g.insert("to".into(), json!("2028-12-31"));
                    }
                }
                g.insert("from".into(), json!(from));
                Value::Object(g)
            })
            .collect();
        case.insert("granted".into(), Value::Array(grants));
    }
    Value::Object(case)
}

/// Case lines: generated cases, a few bad ones (each kind of error) and
/// texts that need more than the fast path.
pub fn population(pack: &Pack) -> Vec<String> {
    let programmes: Vec<&str> = pack.programmes().iter().map(|p| p.id.as_str()).collect();
    let mut rng = Rng(0x0dd_c0ffee);
    let mut lines: Vec<String> = (0..2_000)
        .map(|i| case(&mut rng, i, &programmes).to_string())
        .collect();
    let bad = [
        r#"{"person":{"id":"bad1","nickname":"x"}}"#,
        r#"{"person":{"id":"bad \"2\"","birth_date":"1990-02-30"}}"#,
        r#"{"person":{"id":"bad3"},"enterprise":{"uscc":"91440300708461136U"}}"#,
        r#"{"person":{"id":"bad4"},"granted":[{"programme":"sz.nope","from":"2026-01-01"}]}"#,
        r#"{"person":{"id":"bad5"},"granted":[{"programme":"sz.voucher.data","from":"2026-01-02","to":"2026-01-01"}]}"#,
        r#"{"person":{"works_in_ai":"yes"}}"#,
        r#"[1, 2]"#,
        r#"{"person": {"id": "spaced \u00e9\n", "works_in_ai" : true} }"#,
        r#"{"person":{"id":"escaped \u0041 \ud83e\udd80","birth_date":"1995-03-01","is_founder":true,"works_in_ai":true}}"#,
    ];
    for (k, b) in bad.iter().enumerate() {
        lines.insert(k * 211 + 7, (*b).to_owned());
    }
    lines
}
