//! A programme file: its common conditions, conditions, evidence and
//! rubric, each name resolved and each condition compiled.

use super::*;

impl Loader {
    pub(super) fn common(
        &mut self,
        src: &Source,
        key: &str,
        conditions: &[ConditionFile],
        env: &Env,
    ) -> Vec<(String, Option<String>, crate::expr::Compiled)> {
        conditions
            .iter()
            .enumerate()
            .filter_map(|(i, c)| {
                let compiled = self.condition(src, &format!("{key}[{i}].when"), c, env)?;
                Some((c.name.clone(), c.citation.clone(), compiled))
            })
            .collect()
    }

    pub(super) fn condition(
        &mut self,
        src: &Source,
        key: &str,
        c: &ConditionFile,
        env: &Env,
    ) -> Option<crate::expr::Compiled> {
        let lookup = |name: &str| env.params.get(name).copied();
        match compile(&c.when, &lookup) {
            Ok(compiled) => Some(compiled),
            Err(e) => {
                let kind = match e.kind {
                    ExprErrorKind::UndefinedFact => LoadErrorKind::UndefinedFact,
                    ExprErrorKind::UndefinedParameter => LoadErrorKind::UndefinedParameter,
                    ExprErrorKind::Syntax | ExprErrorKind::Type => LoadErrorKind::Expression,
                };
                let at = locate_in_expression(&src.text, &c.when, e.pos)
                    .or_else(|| locate(&src.text, &c.name));
                let (line, column) = at.unzip();
                self.errors.push(LoadError {
                    kind,
                    file: src.path.clone(),
                    line,
                    column,
                    key: key.to_owned(),
                    message: format!(
                        "{} (in `{}`, at character {})",
                        e.message,
                        c.when,
                        e.pos + 1
                    ),
                });
                None
            }
        }
    }

    pub(super) fn programme(
        &mut self,
        f: ProgrammeFile,
        src: &Source,
        env: &Env,
        pack: &str,
    ) -> Option<Programme> {
        let errors_before = self.errors.len();
        let measure = format!("measure {}", f.measure);
        let effective = match f.effective {
            Some(w) => self.window(src, "effective", w),
            None => env.window,
        };
        let mut conditions = vec![Condition {
            name: "in_effect".into(),
            citation: measure.clone(),
            test: Test::InEffect,
        }];
        let common = match f.beneficiary {
            Beneficiary::Person => &env.common_person,
            Beneficiary::Enterprise => {
                let present =
                    compile("has_enterprise()", &|_| None).expect("built-in condition compiles");
                conditions.push(Condition {
                    name: "enterprise_present".into(),
                    citation: measure.clone(),
                    test: Test::Expr(present),
                });
                &env.common_enterprise
            }
        };
        for (name, citation, compiled) in common {
            conditions.push(Condition {
                name: name.clone(),
                citation: citation.clone().unwrap_or_else(|| measure.clone()),
                test: Test::Expr(compiled.clone()),
            });
        }
        for (i, c) in f.conditions.iter().enumerate() {
            if let Some(compiled) = self.condition(src, &format!("conditions[{i}].when"), c, env) {
                conditions.push(Condition {
                    name: c.name.clone(),
                    citation: c.citation.clone().unwrap_or_else(|| measure.clone()),
                    test: Test::Expr(compiled),
                });
            }
        }
        conditions.push(if f.one_time {
            Condition {
                name: "not_granted_before".into(),
                citation: measure.clone(),
                test: Test::NotGrantedBefore,
            }
        } else {
            Condition {
                name: "no_active_grant".into(),
                citation: measure.clone(),
                test: Test::NoActiveGrant,
            }
        });
        self.unique_condition_names(src, &conditions);
        let amount = match (&f.amount, &f.tops_up) {
            (Some(_), Some(_)) => {
                let message = "a top-up's figure comes from `tops_up`; drop `amount`".into();
                self.error(LoadErrorKind::Invalid, src, "tops_up", "tops_up", message);
                Amount::None
            }
            (Some(a), None) => self.amount(src, a, env),
            (None, Some(t)) => self.top_up(src, t, env),
            (None, None) => Amount::None,
        };
        let duration = f
            .duration
            .as_deref()
            .and_then(|name| self.param(src, "duration", name, Unit::Months, env));
        if let Some(name) = f.beneficiary_cap.as_deref() {
            self.param(src, "beneficiary_cap", name, Unit::Fen, env);
        }
        if duration.is_some() && matches!(amount, Amount::Monthly { .. }) {
            self.error(
                LoadErrorKind::Invalid,
                src,
                "duration",
                "duration",
                "a monthly amount already gives the months; drop `duration`".into(),
            );
        }
        let evidence = self.evidence(src, &f);
        let rubric = self.rubric(src, &f);
        let second_review_above = f.second_review_above_fen.map(Fen);
        if second_review_above.is_some_and(|fen| fen.positive().is_none()) {
            self.error(
                LoadErrorKind::Invalid,
                src,
                "second_review_above_fen",
                "second_review_above_fen",
                "must be a positive amount".into(),
            );
        }
        let delivery = self.delivery(src, &f);
        self.day_counts(src, &f, delivery.unwrap_or(Delivery::Cash));
        let confers_title = f.confers_title || f.kind == Kind::Selective;
        if !f.support.is_empty() && !confers_title {
            self.error(
                LoadErrorKind::Invalid,
                src,
                "support",
                "support",
                "support is attached to a title; add `confers_title: true`".into(),
            );
        }
        (self.errors.len() == errors_before).then_some(Programme {
            id: f.id,
            pack: pack.to_owned(),
            title: f.title,
            description: f.description,
            measure: f.measure,
            citation: f.citation,
            beneficiary: f.beneficiary,
            kind: f.kind,
            delivery: delivery.unwrap_or(Delivery::Cash),
            confers_title,
            support: f.support,
            effective,
            one_time: f.one_time,
            exclusion_groups: f.exclusion_groups,
            evidence,
            rubric,
            decided_by: f.decided_by,
            second_review_above,
            beneficiary_cap: f.beneficiary_cap,
            service_days: f.service_days,
            notice_days: f.notice_days,
            tops_up: f.tops_up.map(|t| t.programme),
            conditions,
            amount,
            exceptions: Vec::new(),
            flagged_in_conditions: Vec::new(),
            duration,
        })
    }

    /// Checks the service standard (1 to 366 days) and the notice period
    /// (0 to 366 days, for space and housing only).
    fn day_counts(&mut self, src: &Source, f: &ProgrammeFile, delivery: Delivery) {
        if f.service_days.is_some_and(|d| !(1..=366).contains(&d)) {
            self.error(
                LoadErrorKind::Invalid,
                src,
                "service_days",
                "service_days",
                "a service standard is 1 to 366 days".into(),
            );
        }
        let problem = match f.notice_days {
            Some(d) if d > 366 => Some("a notice period is at most 366 days"),
            Some(_) if !matches!(delivery, Delivery::Space | Delivery::Housing) => {
                Some("a notice period applies to space and housing only")
            }
            _ => None,
        };
        if let Some(problem) = problem {
            self.error(
                LoadErrorKind::Invalid,
                src,
                "notice_days",
                "notice_days",
                problem.into(),
            );
        }
    }

    /// The programme's delivery: as written, or implied by its kind. A
    /// voucher is issued from a voucher programme's pool only, and an in-kind
    /// benefit says which allocation it becomes.
    fn delivery(&mut self, src: &Source, f: &ProgrammeFile) -> Option<Delivery> {
        let implied = Delivery::implied_by(f.kind);
        let problem = match (f.delivery, implied) {
            (None, None) => {
                Some("an in-kind benefit says how it is delivered: `space` or `housing`")
            }
            (Some(Delivery::Voucher), _) if f.kind != Kind::Voucher => {
                Some("only a voucher programme is delivered as a voucher")
            }
            (Some(d), _) if f.kind == Kind::Voucher && d != Delivery::Voucher => {
                Some("a voucher programme is delivered as a voucher")
            }
            _ => None,
        };
        if let Some(message) = problem {
            let kind = if f.delivery.is_none() {
                LoadErrorKind::MissingKey
            } else {
                LoadErrorKind::Invalid
            };
            self.error(kind, src, "delivery", "delivery", message.into());
            return None;
        }
        f.delivery.or(implied)
    }

    pub(super) fn unique_condition_names(&mut self, src: &Source, conditions: &[Condition]) {
        for (i, c) in conditions.iter().enumerate() {
            if conditions[..i].iter().any(|earlier| earlier.name == c.name) {
                self.error(
                    LoadErrorKind::Duplicate,
                    src,
                    "conditions",
                    &c.name,
                    format!(
                        "condition name `{}` is used twice (built-in names: in_effect, enterprise_present, not_granted_before, no_active_grant, not_excluded_by_grant)",
                        c.name
                    ),
                );
            }
        }
    }

    pub(super) fn evidence(&mut self, src: &Source, f: &ProgrammeFile) -> Vec<Evidence> {
        let mut out: Vec<Evidence> = Vec::with_capacity(f.evidence.len());
        for e in &f.evidence {
            if out.iter().any(|seen| seen.id == e.id) {
                self.error(
                    LoadErrorKind::Duplicate,
                    src,
                    "evidence",
                    &e.id,
                    format!("evidence id `{}` is used twice", e.id),
                );
            }
            out.push(Evidence {
                id: e.id.clone(),
                title: e.title.clone(),
                kind: e.kind,
            });
        }
        out
    }

    pub(super) fn rubric(&mut self, src: &Source, f: &ProgrammeFile) -> Vec<Criterion> {
        let mut out: Vec<Criterion> = Vec::with_capacity(f.rubric.len());
        for c in &f.rubric {
            if out.iter().any(|seen| seen.id == c.id) {
                self.error(
                    LoadErrorKind::Duplicate,
                    src,
                    "rubric",
                    &c.id,
                    format!("rubric criterion `{}` is used twice", c.id),
                );
            }
            if !(1..=100).contains(&c.max) {
                self.error(
                    LoadErrorKind::Invalid,
                    src,
                    "rubric",
                    &c.id,
                    format!("criterion `{}`: `max` must be 1 to 100", c.id),
                );
            }
            out.push(Criterion {
                id: c.id.clone(),
                title: c.title.clone(),
                max: c.max,
            });
        }
        out
    }
}
