//! Bulk onboarding of what can be held, on both backends: space units
//! (with the buildings and floors they name), housing units and
//! instruments, each row checked as its form checks it, with rents in
//! yuan; an operator imports only for their own community; what is on
//! file is reported, and an export is read back as records on file.

use opcity_domain::Role;
use opcity_services::Services;
use opcity_services::authz::Actor;
use opcity_services::import::export::Lang;
use opcity_services::import::{ImportFile, ImportReport, RecordKind};
use opcity_testkit::{account, each_backend};

fn file(name: &str, text: &str) -> ImportFile {
    ImportFile {
        file_name: name.into(),
        content: text.as_bytes().to_vec().into(),
    }
}

fn problems(report: &ImportReport) -> Vec<(usize, Option<&str>, &str)> {
    report
        .problems
        .iter()
        .map(|p| (p.row, p.field.as_deref(), p.code))
        .collect()
}

/// Two communities in Nanshan, the first operated by `bay.operator`.
async fn communities(s: &Services, admin: &Actor) {
    account(s, "bay.operator", Role::CommunityOperator, None).await;
    let csv = "name_zh,name_en,district,address,area_m2,operator_name,operator\n\
        湾区OPC社区,Bay OPC Community,nanshan,科苑路1号,12000,湾区运营,bay.operator\n\
        前海OPC社区,Qianhai OPC Community,nanshan,前海路2号,8000,前海运营,\n";
    let done = s
        .import_records(admin, RecordKind::Communities, &file("c.csv", csv))
        .await
        .unwrap();
    assert!(done.written, "{:?}", done.problems);
}

/// An export of `kind` in `lang`, as a CSV file.
async fn exported(s: &Services, actor: &Actor, kind: RecordKind, lang: Lang) -> ImportFile {
    let sheet = s.export_records(actor, kind, lang).await.unwrap();
    ImportFile {
        file_name: "export.csv".into(),
        content: sheet.to_csv().into_bytes().into(),
    }
}

#[tokio::test]
async fn an_operator_imports_units_with_their_buildings_and_floors() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        communities(&s, &admin).await;
        let operator = s.actor_by_username("bay.operator").await.unwrap();
        assert!(s.may_import(&operator, RecordKind::Units));
        assert!(!s.may_import(&operator, RecordKind::Persons));

        let header = "community,building,building_address,floor_level,code,kind,area_m2,capacity,list_rent_yuan,discounted_rent_yuan\n";
        let wrong = format!(
            "{header}\
             Bay OPC Community,A座,科苑路1号A座,3,D-1,工位,6,1,\"1,500\",800\n\
             Bay OPC Community,A座,,3,D-1,desk,6,1,1500,800\n\
             Bay OPC Community,B座,,5,O-1,office,40,6,9000,6000\n\
             Bay OPC Community,A座,,4,O-2,office,40,6,5000,6000\n\
             前海OPC社区,Q1,前海路2号,1,D-9,desk,6,1,1500,800\n"
        );
        let report = s
            .import_records(&operator, RecordKind::Units, &file("u.csv", &wrong))
            .await
            .unwrap();
        assert!(!report.written);
        assert_eq!(
            problems(&report),
            [
                (3, Some("code"), "duplicate_in_file"),
                (4, Some("building_address"), "required"),
                (5, Some("discounted_rent_yuan"), "above_list_rent"),
                (6, Some("district"), "district_not_yours"),
            ]
        );

        let good = format!(
            "{header}\
             Bay OPC Community,A座,科苑路1号A座,3,D-1,工位,6,1,\"1,500\",800\n\
             Bay OPC Community,A座,,3,D-2,desk,6,1,1500,800.50\n\
             Bay OPC Community,A座,,4,O-1,Office,40,6,9000,6000\n"
        );
        let done = s
            .import_records(&operator, RecordKind::Units, &file("u.csv", &good))
            .await
            .unwrap();
        assert!(done.written, "{:?}", done.problems);
        let units: Vec<_> = {
            let mut out = Vec::new();
            for id in &done.created {
                out.push(s.get_unit(&operator, *id).await.unwrap());
            }
            out
        };
        assert_eq!(units[0].kind, "desk");
        assert_eq!(units[0].list_rent_fen, 150_000);
        assert_eq!(units[1].discounted_rent_fen, 80_050);
        assert_eq!(units[0].floor_id, units[1].floor_id, "one floor made for both");
        assert_ne!(units[0].floor_id, units[2].floor_id);
        assert_eq!(units[2].kind, "office");

        // The same file again: every unit is on file now.
        let again = s
            .preview_import(&operator, RecordKind::Units, &file("u.csv", &good))
            .await
            .unwrap();
        let codes: Vec<_> = again.problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, ["already_registered"; 3]);
        // And so is every unit of an export, in either language.
        for lang in [Lang::Zh, Lang::En] {
            let export = exported(&s, &operator, RecordKind::Units, lang).await;
            let report = s
                .preview_import(&operator, RecordKind::Units, &export)
                .await
                .unwrap();
            let codes: Vec<_> = report.problems.iter().map(|p| p.code).collect();
            assert_eq!(codes, ["already_registered"; 3], "{lang:?}");
        }
    })
    .await;
}

#[tokio::test]
async fn housing_units_take_their_district_from_their_community() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        communities(&s, &admin).await;
        let csv = "编号,类型,地址,面积（平方米）,市场参考月租金（元）,community,district\n\
            H-1,一套房,科苑路1号3栋,60,\"¥2,800\",湾区OPC社区,\n\
            H-2,room,福田路9号,20,1200.5,,futian\n\
            H-3,suite,福田路9号,20,abc,,futian\n";
        let report = s
            .import_records(&admin, RecordKind::Apartments, &file("h.csv", csv))
            .await
            .unwrap();
        assert_eq!(
            problems(&report),
            [
                (4, Some("kind"), "not_one_of"),
                (4, Some("market_rent_yuan"), "not_an_amount"),
            ]
        );
        let csv = csv.lines().take(3).collect::<Vec<_>>().join("\n");
        let done = s
            .import_records(&admin, RecordKind::Apartments, &file("h.csv", &csv))
            .await
            .unwrap();
        assert!(done.written, "{:?}", done.problems);
        let listed = s.list_housing_units(&admin, None, None).await.unwrap();
        let h1 = listed.iter().find(|u| u.code == "H-1").unwrap();
        assert_eq!(h1.district.id(), "nanshan");
        assert!(h1.community_id.is_some());
        assert_eq!(
            (h1.kind.as_str(), h1.market_rent_fen),
            ("apartment", 280_000)
        );
        let h2 = listed.iter().find(|u| u.code == "H-2").unwrap();
        assert_eq!((h2.district.id(), h2.market_rent_fen), ("futian", 120_050));

        let export = exported(&s, &admin, RecordKind::Apartments, Lang::En).await;
        let report = s
            .preview_import(&admin, RecordKind::Apartments, &export)
            .await
            .unwrap();
        let codes: Vec<_> = report.problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, ["already_registered"; 2]);
    })
    .await;
}

#[tokio::test]
async fn instruments_get_the_usual_booking_rules_where_cells_are_empty() {
    each_backend(async |db| {
        let s = opcity_testkit::services(db);
        let admin = account(&s, "admin", Role::MunicipalAdmin, None).await;
        account(&s, "lab.manager", Role::ServiceProvider, None).await;
        let header = "Instrument name,kind,institution,district,opens,closes,open_days,manager,slot_minutes,requires_approval\n";
        let wrong = format!(
            "{header}\
             A100 集群,GPU server,深圳大学,nanshan,09:00,25:00,12345,lab.manager,,\n\
             显微镜,lab_equipment,南科大,nanshan,09:00,18:00,12345,nobody,30,是\n"
        );
        let report = s
            .import_records(&admin, RecordKind::Instruments, &file("i.csv", &wrong))
            .await
            .unwrap();
        assert_eq!(
            problems(&report),
            [
                (2, Some("closes"), "invalid_time"),
                (3, Some("manager"), "unknown_account"),
            ]
        );
        let good = format!(
            "{header}\
             A100 集群,GPU server,深圳大学,nanshan,09:00,24:00,12345,lab.manager,,\n\
             显微镜,lab_equipment,南科大,Nanshan,09:00,18:00,54321,,30,是\n"
        );
        let done = s
            .import_records(&admin, RecordKind::Instruments, &file("i.csv", &good))
            .await
            .unwrap();
        assert!(done.written, "{:?}", done.problems);
        let gpu = s.get_instrument(&admin, done.created[0]).await.unwrap();
        assert_eq!(gpu.kind, "gpu_server");
        assert_eq!((gpu.slot_minutes, gpu.cancel_notice_hours, gpu.no_show_grace_minutes), (60, 24, 15));
        assert!(!gpu.requires_approval);
        assert!(gpu.manager_account_id.is_some());
        let scope = s.get_instrument(&admin, done.created[1]).await.unwrap();
        assert_eq!((scope.open_days.as_str(), scope.slot_minutes), ("12345", 30));
        assert!(scope.requires_approval);

        let export = exported(&s, &admin, RecordKind::Instruments, Lang::Zh).await;
        let report = s
            .preview_import(&admin, RecordKind::Instruments, &export)
            .await
            .unwrap();
        let codes: Vec<_> = report.problems.iter().map(|p| p.code).collect();
        assert_eq!(codes, ["already_registered"; 2]);
    })
    .await;
}
