//! Writes the bulk-import benchmark's files (`bench/import/run.sh`):
//! `persons.csv` with N persons (valid resident id numbers, degrees,
//! districts, hukou and AI facts, a seeded mix) and `enterprises.csv` with M
//! enterprises (valid credit codes; each founded by one of the first M
//! persons, named by resident id number). Usage: `import_population DIR N M`.

use opcity_testkit::{resident_id, uscc};
use std::fmt::Write as _;

const DISTRICTS: [&str; 4] = ["nanshan", "futian", "longgang", "baoan"];
const DEGREES: [&str; 4] = ["bachelor", "master", "doctorate", "none"];

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, persons, enterprises] = args.as_slice() else {
        eprintln!("usage: import_population DIR PERSONS ENTERPRISES");
        std::process::exit(2);
    };
    let dir = std::path::Path::new(dir);
    let persons: usize = persons.parse().expect("a number of persons");
    let enterprises: usize = enterprises.parse().expect("a number of enterprises");
    let mut csv = String::from(
        "full_name,resident_id,district,highest_degree,degree_date,has_shenzhen_hukou,works_in_ai\n",
    );
    for n in 0..persons {
        let degree = DEGREES[n % DEGREES.len()];
        let degree_date = if degree == "none" { "" } else { "2024-06-30" };
        writeln!(
            csv,
            "Person {n},{},{},{degree},{degree_date},{},{}",
            resident_id(n),
            DISTRICTS[n % DISTRICTS.len()],
            if n % 3 == 0 { "yes" } else { "no" },
            if n % 2 == 0 { "yes" } else { "no" },
        )
        .expect("a string");
    }
    std::fs::write(dir.join("persons.csv"), csv)?;
    let mut csv =
        String::from("uscc,name,district,registered_date,size,ai_business,founder_resident_id\n");
    for n in 0..enterprises {
        writeln!(
            csv,
            "{},Enterprise {n},{},2025-09-01,micro,{},{}",
            uscc(n),
            DISTRICTS[n % DISTRICTS.len()],
            if n % 4 == 0 { "no" } else { "yes" },
            resident_id(n),
        )
        .expect("a string");
    }
    std::fs::write(dir.join("enterprises.csv"), csv)
}
