//! Bulk onboarding on both backends: a file is previewed without writing,
//! imported whole or not at all; every problem is named by row, column and
//! reason; duplicates in the file and on file are reported; each row is
//! authorised for its district; an export is read back by the import; and
//! imports racing over the same people write each person once.

use opcity_domain::Role;
use opcity_services::ServiceError;
use opcity_services::authz::Actor;
use opcity_services::import::export::Lang;
use opcity_services::import::{ImportFile, ImportReport, RecordKind, RowProblem};
use opcity_services::registry::persons::PersonInput;
use opcity_services::registry::{ListFilter, Paging};
use opcity_services::sheet::{Cell, Sheet};
use opcity_services::{ErrorCode, Services};
use opcity_testkit::{account, each_backend, resident_id, uscc};
use rand::{Rng, SeedableRng};

fn file(name: &str, text: &str) -> ImportFile {
    ImportFile {
        file_name: name.into(),
        content: text.as_bytes().to_vec().into(),
    }
}

async fn person_count(s: &Services, admin: &Actor) -> u64 {
    s.list_persons(admin, &ListFilter::default(), Paging::default())
        .await
        .unwrap()
        .total
}

/// The problems as `(row, column, field, code)`.
fn problems(report: &ImportReport) -> Vec<(usize, Option<&str>, Option<&str>, &str)> {
    report
        .problems
        .iter()
        .map(|p: &RowProblem| (p.row, p.column.as_deref(), p.field.as_deref(), p.code))
        .collect()
}

#[tokio::test]
async fn a_clean_file_is_previewed_then_written_whole() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        // Chinese labels, field ids and English labels mixed; a BOM; a
        // district by name; a degree by its label; yes/no in both languages.
        let csv = format!(
            "\u{feff}姓名,resident_id,District,最高学历,从事AI创新创业,has_shenzhen_hukou\n\
             林一,{},南山区,硕士,是,no\n\
             Chen Er,{},futian,doctorate,yes,\n\
             王三,,,,,\n",
            resident_id(1),
            resident_id(2)
        );
        let preview = s
            .preview_import(&admin, RecordKind::Persons, &file("persons.csv", &csv))
            .await
            .unwrap();
        assert!(preview.accepted(), "{:?}", preview.problems);
        assert_eq!((preview.rows, preview.written), (3, false));
        assert_eq!(
            person_count(&s, &admin).await,
            0,
            "a preview writes nothing"
        );

        let done = s
            .import_records(&admin, RecordKind::Persons, &file("persons.csv", &csv))
            .await
            .unwrap();
        assert!(done.written);
        assert_eq!(done.created.len(), 3);
        assert_eq!(done.sha256, preview.sha256);
        let first = s.get_person(&admin, done.created[0]).await.unwrap();
        assert_eq!(first.full_name, "林一");
        assert_eq!(first.district.map(|d| d.id()), Some("nanshan"));
        assert_eq!(first.highest_degree.as_deref(), Some("master"));
        assert_eq!(first.works_in_ai, Some(true));
        assert_eq!(first.has_shenzhen_hukou, Some(false));
        assert_eq!(
            first.resident_id_masked.as_deref(),
            Some("4****************".to_owned() + &resident_id(1)[17..]).as_deref()
        );
        // Their results are computed with the write, as an edit's are.
        let audit = s.audit_entries(&admin, 0, 5).await.unwrap();
        let entry = audit
            .entries
            .iter()
            .find(|e| e.action == "person.import")
            .expect("an audit entry");
        assert_eq!(entry.after.as_ref().unwrap()["rows"], 3);
        assert_eq!(entry.after.as_ref().unwrap()["sha256"], done.sha256);
    })
    .await;
}

#[tokio::test]
async fn every_problem_is_named_and_nothing_is_written() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let on_file = resident_id(7);
        s.create_person(
            &admin,
            &PersonInput {
                full_name: "Already Here".into(),
                resident_id: Some(on_file.clone()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
        let mut wrong_check = resident_id(8);
        wrong_check.pop();
        wrong_check.push(if resident_id(8).ends_with('0') {
            '1'
        } else {
            '0'
        });
        let csv = format!(
            "full_name,resident_id,works_in_ai,birth_date\n\
             Good One,{},yes,\n\
             Bad Check,{wrong_check},,\n\
             Twin A,{twin},,\n\
             Twin B,{twin},,\n\
             Known,{on_file},,\n\
             ,,maybe,1990-02-30\n",
            resident_id(9),
            twin = resident_id(10),
        );
        let report = s
            .import_records(&admin, RecordKind::Persons, &file("p.csv", &csv))
            .await
            .unwrap();
        assert!(!report.written);
        assert_eq!(
            (report.rows, report.duplicates, report.problem_count),
            (6, 2, 6)
        );
        assert_eq!(
            problems(&report),
            [
                (3, Some("B"), Some("resident_id"), "resident_id_check"),
                (5, Some("B"), Some("resident_id"), "duplicate_in_file"),
                (6, Some("B"), Some("resident_id"), "already_registered"),
                (7, Some("A"), Some("full_name"), "required"),
                (7, Some("C"), Some("works_in_ai"), "not_yes_no"),
                (7, Some("D"), Some("birth_date"), "invalid_date"),
            ]
        );
        assert_eq!(report.problems[1].params["row"], "4");
        assert!(
            report.problems[2].params["record"].starts_with("Already Here (#"),
            "{:?}",
            report.problems[2].params
        );
        assert_eq!(person_count(&s, &admin).await, 1, "nothing was written");
    })
    .await;
}

#[tokio::test]
async fn columns_are_checked_before_rows() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let csv = "姓名,shoe_size,district,所在区\nA,42,nanshan,nanshan\n";
        let report = s
            .preview_import(&admin, RecordKind::Persons, &file("p.csv", csv))
            .await
            .unwrap();
        assert_eq!(
            problems(&report),
            [
                (1, Some("B"), None, "unknown_column"),
                (1, Some("D"), None, "repeated_column"),
            ]
        );
        assert_eq!(report.problems[0].params["value"], "shoe_size");
        assert_eq!(report.problems[1].params["first"], "C");
        // A required column missing is named by its field.
        let report = s
            .preview_import(&admin, RecordKind::Enterprises, &file("e.csv", "name\nX\n"))
            .await
            .unwrap();
        assert_eq!(
            problems(&report),
            [
                (1, None, Some("uscc"), "missing_column"),
                (1, None, Some("district"), "missing_column"),
            ]
        );
        // A file that is not UTF-8 is refused with the reason, not garbled.
        let gbk = ImportFile {
            file_name: "p.csv".into(),
            content: b"full_name\n\xd5\xc5\xc8\xfd\n".to_vec().into(),
        };
        let e = s
            .preview_import(&admin, RecordKind::Persons, &gbk)
            .await
            .unwrap_err();
        assert!(
            matches!(&e, ServiceError::Validation(errors) if errors[0].code == "not_utf8"),
            "{e:?}"
        );
    })
    .await;
}

#[tokio::test]
async fn each_row_is_authorised_for_its_district() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let reviewer = account(
            &s,
            "ns.reviewer",
            Role::DistrictReviewer,
            Some(opcity_domain::District::Nanshan),
        )
        .await;
        let founder = account(&s, "founder", Role::Founder, None).await;
        let operator = account(&s, "operator", Role::CommunityOperator, None).await;
        // District reviewers add communities in their district, not persons.
        assert!(s.may_import(&reviewer, RecordKind::Communities));
        assert!(!s.may_import(&reviewer, RecordKind::Persons));
        for outsider in [&founder, &operator] {
            assert!(!s.may_import(outsider, RecordKind::Persons));
            let e = s
                .preview_import(
                    outsider,
                    RecordKind::Persons,
                    &file("p.csv", "full_name\nA\n"),
                )
                .await
                .unwrap_err();
            assert!(matches!(e, ServiceError::Forbidden), "{e:?}");
        }
        let csv = "name_zh,name_en,district,address,area_m2,operator_name\n\
                   南山一号,Nanshan One,nanshan,科技园,5000,甲\n\
                   福田一号,Futian One,futian,车公庙,5000,乙\n";
        let report = s
            .import_records(&reviewer, RecordKind::Communities, &file("c.csv", csv))
            .await
            .unwrap();
        assert!(!report.written);
        assert_eq!(
            problems(&report),
            [(3, Some("C"), Some("district"), "district_not_yours")]
        );
        let listed = s
            .list_communities(&admin, &ListFilter::default(), Paging::default())
            .await
            .unwrap();
        assert_eq!(listed.total, 0, "nothing was written");
    })
    .await;
}

/// A workbook as a spreadsheet program writes it: typed cells.
fn workbook(headers: &[&str], rows: Vec<Vec<Cell>>) -> ImportFile {
    let sheet = Sheet {
        name: "data".into(),
        headers: headers.iter().map(|h| h.to_string()).collect(),
        rows,
    };
    ImportFile {
        file_name: "data.xlsx".into(),
        content: sheet.to_xlsx().unwrap().into(),
    }
}

#[tokio::test]
async fn enterprises_name_their_community_and_founder_and_come_back_from_an_export() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        account(&s, "bay.operator", Role::CommunityOperator, None).await;
        let communities = "name_zh,name_en,district,address,area_m2,operator_name,operator,opened_on\n\
            湾区OPC社区,Bay OPC Community,南山区,科苑路1号,\"12,000\",湾区运营,bay.operator,2026-03-01\n\
            前海OPC社区,Qianhai OPC Community,nanshan,前海路2号,8000,前海运营,,\n";
        let done = s
            .import_records(&admin, RecordKind::Communities, &file("c.csv", communities))
            .await
            .unwrap();
        assert!(done.written, "{:?}", done.problems);
        let bay = s.get_community(&admin, done.created[0]).await.unwrap();
        assert_eq!(bay.area_m2, 12_000);
        assert!(bay.operator_account_id.is_some());

        let persons = format!("full_name,resident_id\nFounder,{}\n", resident_id(20));
        let founder = s
            .import_records(&admin, RecordKind::Persons, &file("p.csv", &persons))
            .await
            .unwrap()
            .created[0];

        let headers = [
            "统一社会信用代码",
            "Enterprise name",
            "district",
            "registered_date",
            "community",
            "size",
            "ai_business",
            "founder_resident_id",
        ];
        let date = chrono::NaiveDate::from_ymd_opt(2026, 2, 1).unwrap();
        let row = |n: usize, community: &str, founder: Option<String>| {
            vec![
                Cell::Text(uscc(n)),
                Cell::Text(format!("智算{n}号")),
                Cell::Text("Nanshan".into()),
                Cell::Date(date),
                Cell::Text(community.into()),
                Cell::Text("微型".into()),
                Cell::Text("是".into()),
                founder.map_or(Cell::Empty, Cell::Text),
            ]
        };
        let wrong = workbook(
            &headers,
            vec![
                row(1, "Bay OPC Community", Some(resident_id(21))),
                row(2, "无此社区", None),
            ],
        );
        let report = s
            .preview_import(&admin, RecordKind::Enterprises, &wrong)
            .await
            .unwrap();
        assert_eq!(
            problems(&report),
            [
                (2, Some("H"), Some("founder_resident_id"), "unknown_person"),
                (3, Some("E"), Some("community"), "unknown_community"),
            ]
        );
        let good = workbook(
            &headers,
            vec![
                row(1, "Bay OPC Community", Some(resident_id(20))),
                row(2, "前海OPC社区", None),
            ],
        );
        let done = s
            .import_records(&admin, RecordKind::Enterprises, &good)
            .await
            .unwrap();
        assert!(done.written, "{:?}", done.problems);
        let first = s.get_enterprise(&admin, done.created[0]).await.unwrap();
        assert_eq!(first.registered_date, Some(date));
        assert_eq!(first.community_id, Some(bay.id));
        assert_eq!(first.size.as_deref(), Some("micro"));
        assert_eq!(first.founders, [founder]);

        // An export in either language is read back by the import: every
        // row is a record on file, and nothing else is wrong with it.
        for lang in [Lang::Zh, Lang::En] {
            let sheet = s
                .export_records(&admin, RecordKind::Enterprises, lang)
                .await
                .unwrap();
            assert_eq!(sheet.rows.len(), 2);
            // The founder's number is masked in the export.
            assert!(matches!(&sheet.rows[0][10], Cell::Text(m) if m.contains('*')));
            let mut rows = sheet.rows.clone();
            rows[0][10] = Cell::Empty;
            let again = ImportFile {
                file_name: "export.xlsx".into(),
                content: Sheet { rows, ..sheet.clone() }.to_xlsx().unwrap().into(),
            };
            let report = s
                .preview_import(&admin, RecordKind::Enterprises, &again)
                .await
                .unwrap();
            let codes: Vec<_> = report.problems.iter().map(|p| p.code).collect();
            assert_eq!(codes, ["already_registered", "already_registered"], "{lang:?}");
            let csv = ImportFile {
                file_name: "export.csv".into(),
                content: sheet.to_csv().into_bytes().into(),
            };
            let report = s
                .preview_import(&admin, RecordKind::Enterprises, &csv)
                .await
                .unwrap();
            let codes: Vec<_> = report.problems.iter().map(|p| p.code).collect();
            // Row 2 holds the founder's masked number, refused by name
            // (a row with a problem is not compared with the records on file).
            assert_eq!(codes, ["masked_resident_id", "already_registered"], "{lang:?}");
        }
        let communities = s
            .export_records(&admin, RecordKind::Communities, Lang::Zh)
            .await
            .unwrap();
        assert_eq!(communities.headers[0], "中文名称");
        assert_eq!(communities.rows[0][2], Cell::Text("南山区".into()));
        assert_eq!(communities.rows[0][6], Cell::Text("bay.operator".into()));
    })
    .await;
}

#[tokio::test]
async fn one_person_per_resident_id_number_in_forms_too() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let input = |name: &str, n: usize| PersonInput {
            full_name: name.into(),
            resident_id: Some(resident_id(n)),
            ..Default::default()
        };
        s.create_person(&admin, &input("One", 30)).await.unwrap();
        let e = s
            .create_person(&admin, &input("Two", 30))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                ServiceError::Conflict {
                    code: ErrorCode::ResidentIdTaken,
                    ..
                }
            ),
            "{e:?}"
        );
        let other = s.create_person(&admin, &input("Other", 31)).await.unwrap();
        let e = s
            .update_person(&admin, other.id, &input("Other", 30))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                ServiceError::Conflict {
                    code: ErrorCode::ResidentIdTaken,
                    ..
                }
            ),
            "{e:?}"
        );
    })
    .await;
}

/// Imports racing over overlapping people, seeded: each file is written
/// whole or not at all, a file sharing a person with a written one is not
/// written, each report is its own file's, and the registry holds exactly
/// the people of the files written (the reference model).
#[tokio::test]
async fn racing_imports_write_each_person_once() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let seed: u64 = std::env::var("OPCITY_STORM_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(2026);
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let mut held: std::collections::BTreeSet<usize> = Default::default();
        for round in 0..6 {
            let base = 1_000 + round * 100;
            let files: Vec<Vec<usize>> = (0..rng.random_range(2..=3))
                .map(|_| {
                    let mut people: Vec<usize> = (0..rng.random_range(1..=6))
                        .map(|_| base + rng.random_range(0..10))
                        .collect();
                    people.sort_unstable();
                    people.dedup();
                    people
                })
                .collect();
            let texts: Vec<String> = files
                .iter()
                .map(|people| {
                    let mut csv = String::from("full_name,resident_id\n");
                    for n in people {
                        csv.push_str(&format!("P{n},{}\n", resident_id(*n)));
                    }
                    csv
                })
                .collect();
            let results = opcity_testkit::race(files.len(), |i| {
                let s = s.clone();
                let admin = admin.clone();
                let text = texts[i].clone();
                async move {
                    s.import_records(
                        &admin,
                        RecordKind::Persons,
                        &file(&format!("f{i}.csv"), &text),
                    )
                    .await
                }
            })
            .await;
            let mut written: Vec<&Vec<usize>> = Vec::new();
            for (i, result) in results.iter().enumerate() {
                match result {
                    Ok(report) => {
                        assert_eq!(report.file_name, format!("f{i}.csv"), "its own report");
                        assert_eq!(report.rows, files[i].len());
                        if report.written {
                            assert_eq!(report.created.len(), files[i].len());
                            written.push(&files[i]);
                        } else {
                            assert!(
                                report
                                    .problems
                                    .iter()
                                    .all(|p| p.code == "already_registered")
                            );
                        }
                    }
                    Err(ServiceError::Conflict {
                        code: ErrorCode::ResidentIdTaken,
                        ..
                    }) => {}
                    Err(e) => panic!("round {round}: {e:?}"),
                }
            }
            for (a, first) in written.iter().enumerate() {
                for second in &written[a + 1..] {
                    assert!(
                        first.iter().all(|n| !second.contains(n)),
                        "round {round} (seed {seed}): two written files share a person"
                    );
                }
            }
            assert!(!written.is_empty(), "round {round}: some file is written");
            held.extend(written.iter().flat_map(|f| f.iter().copied()));
            assert_eq!(
                person_count(&s, &admin).await,
                held.len() as u64,
                "round {round}"
            );
        }
    })
    .await;
}

/// A code on file is named (to an administrator, who may read every
/// record); a founder is named by a number on file or refused.
#[tokio::test]
async fn records_on_file_are_named_and_founders_must_exist() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let csv = format!("uscc,name,district\n{},Futian Co,futian\n", uscc(5));
        let done = s
            .import_records(&admin, RecordKind::Enterprises, &file("e.csv", &csv))
            .await
            .unwrap();
        assert!(done.written);
        let auditor = account(&s, "auditor", Role::Auditor, None).await;
        // The administrator sees whose code it is.
        let report = s
            .preview_import(&admin, RecordKind::Enterprises, &file("e.csv", &csv))
            .await
            .unwrap();
        assert_eq!(report.problems[0].code, "already_registered");
        assert!(report.problems[0].params["record"].starts_with("Futian Co"));
        // Nobody but the city's administrators names a founder: the
        // column is refused before any number is looked up.
        assert!(!s.may_import(&auditor, RecordKind::Enterprises));
        let with_founder = format!(
            "uscc,name,district,founder_resident_id\n{},New Co,nanshan,{}\n",
            uscc(6),
            resident_id(40)
        );
        let report = s
            .preview_import(
                &admin,
                RecordKind::Enterprises,
                &file("e.csv", &with_founder),
            )
            .await
            .unwrap();
        assert_eq!(
            problems(&report),
            [(2, Some("D"), Some("founder_resident_id"), "unknown_person")]
        );
    })
    .await;
}

/// A file without keys (persons without resident id numbers) is written
/// once: the same file again is refused whole.
#[tokio::test]
async fn the_same_file_is_written_once() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        let csv = "full_name\nNo Number\n";
        let first = s
            .import_records(&admin, RecordKind::Persons, &file("p.csv", csv))
            .await
            .unwrap();
        assert!(first.written);
        let e = s
            .import_records(&admin, RecordKind::Persons, &file("again.csv", csv))
            .await
            .unwrap_err();
        assert!(
            matches!(
                e,
                ServiceError::Conflict {
                    code: ErrorCode::FileImported,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(person_count(&s, &admin).await, 1);
        // A preview kept for confirmation is confirmed once, by its uploader.
        let csv = "full_name\nAnother\n";
        let staged = s
            .stage_import(&admin, RecordKind::Persons, &file("p2.csv", csv))
            .await
            .unwrap();
        // The staged file is kept, encrypted: no cell of it is on disk in clear.
        let stored = walk(db.documents.path());
        assert!(!stored.is_empty(), "the preview is kept");
        assert!(
            stored
                .iter()
                .all(|content| !content.windows(7).any(|w| w == b"Another")),
            "a staged file is encrypted"
        );
        let other = account(&s, "admin.two", Role::MunicipalAdmin, None).await;
        let e = s
            .import_staged(&other, RecordKind::Persons, &staged.sha256)
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::NotFound { .. }), "{e:?}");
        let done = s
            .import_staged(&admin, RecordKind::Persons, &staged.sha256)
            .await
            .unwrap();
        assert!(done.written);
        assert_eq!(done.file_name, "p2.csv");
        let e = s
            .import_staged(&admin, RecordKind::Persons, &staged.sha256)
            .await
            .unwrap_err();
        assert!(matches!(e, ServiceError::NotFound { .. }), "{e:?}");
        assert_eq!(person_count(&s, &admin).await, 2);
    })
    .await;
}

/// The contents of every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if let Ok(content) = std::fs::read(&path) {
            out.push(content);
        }
    }
    out
}
