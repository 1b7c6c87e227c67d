//! A programme's amount rule: fixed, from a parameter, or tiered by a
//! fact, each parameter's unit checked.

use super::*;

impl Loader {
    /// Resolves a parameter named in an amount rule and checks its unit.
    pub(super) fn param(
        &mut self,
        src: &Source,
        key: &str,
        name: &str,
        unit: Unit,
        env: &Env,
    ) -> Option<usize> {
        match env.params.get(name) {
            None => {
                self.error(
                    LoadErrorKind::UndefinedParameter,
                    src,
                    key,
                    name,
                    format!("undefined parameter `{name}`"),
                );
                None
            }
            Some(info) if info.unit != unit => {
                self.error(
                    LoadErrorKind::Type,
                    src,
                    key,
                    name,
                    format!(
                        "parameter `{name}` is in {}, this needs {}",
                        info.unit.name(),
                        unit.name()
                    ),
                );
                None
            }
            Some(info) => Some(info.index),
        }
    }

    pub(super) fn amount(&mut self, src: &Source, a: &AmountFile, env: &Env) -> Amount {
        let given = [
            a.fixed.is_some(),
            a.ceiling.is_some(),
            a.tiered.is_some(),
            a.monthly.is_some(),
            a.contract_share.is_some(),
        ];
        if given.iter().filter(|g| **g).count() != 1 {
            self.error(
                LoadErrorKind::Invalid,
                src,
                "amount",
                "amount:",
                "give exactly one of fixed, ceiling, tiered, monthly, contract_share".into(),
            );
            return Amount::None;
        }
        let rule = if let Some(name) = &a.fixed {
            self.param(src, "amount.fixed", name, Unit::Fen, env)
                .map(Amount::Fixed)
        } else if let Some(name) = &a.ceiling {
            self.param(src, "amount.ceiling", name, Unit::Fen, env)
                .map(Amount::Ceiling)
        } else if let Some(m) = &a.monthly {
            let monthly = self.param(src, "amount.monthly.monthly", &m.monthly, Unit::Fen, env);
            let months = self.param(src, "amount.monthly.months", &m.months, Unit::Months, env);
            monthly
                .zip(months)
                .map(|(monthly, months)| Amount::Monthly { monthly, months })
        } else if let Some(c) = &a.contract_share {
            let key = "amount.contract_share";
            let share = self.param(src, key, &c.share, Unit::Percent, env);
            let startup_share = match &c.startup_share {
                None => Some(None),
                Some(name) => self.param(src, key, name, Unit::Percent, env).map(Some),
            };
            let cap = self.param(src, key, &c.cap, Unit::Fen, env);
            share
                .zip(cap)
                .zip(startup_share)
                .map(|((share, cap), startup_share)| Amount::ContractShare {
                    share,
                    startup_share,
                    cap,
                })
        } else {
            let t = a.tiered.as_ref().expect("exactly one rule is given");
            self.tiered(src, &t.by, t.figure, &t.tiers, env)
        };
        // On error the problem is already recorded and the pack will not load.
        rule.unwrap_or(Amount::None)
    }

    /// A top-up's two parameters; the programme it tops up is resolved
    /// once the whole chain is loaded ([`Loader::top_ups`]).
    pub(super) fn top_up(
        &mut self,
        src: &Source,
        t: &crate::pack::files::TopUpFile,
        env: &Env,
    ) -> Amount {
        let up_to = self.param(src, "tops_up.up_to", &t.up_to, Unit::Fen, env);
        let cap = self.param(src, "tops_up.combined_cap", &t.combined_cap, Unit::Fen, env);
        match up_to.zip(cap) {
            Some((up_to, combined_cap)) => Amount::TopUp {
                // Not yet known; a load that leaves it unresolved fails.
                base: usize::MAX,
                up_to,
                combined_cap,
            },
            None => Amount::None,
        }
    }

    pub(super) fn tiered(
        &mut self,
        src: &Source,
        by: &str,
        figure: crate::pack::files::Figure,
        tiers: &BTreeMap<String, String>,
        env: &Env,
    ) -> Option<Amount> {
        let Some(fact) = Fact::from_name(by) else {
            self.error(
                LoadErrorKind::UndefinedFact,
                src,
                "amount.tiered.by",
                by,
                format!("undefined fact `{by}`"),
            );
            return None;
        };
        let FactType::Enum(t) = fact.fact_type() else {
            self.error(
                LoadErrorKind::Type,
                src,
                "amount.tiered.by",
                by,
                format!("`{by}` is not an enum fact; tiers need one (degree, district, size)"),
            );
            return None;
        };
        let mut slots = vec![None; t.names().len()];
        let mut ok = true;
        for (word, param) in tiers {
            let key = format!("amount.tiered.tiers.{word}");
            let index = self.param(src, &key, param, Unit::Fen, env);
            match t.index_of(word) {
                Some(i) => slots[usize::from(i)] = index,
                None => {
                    ok = false;
                    self.error(
                        LoadErrorKind::UnknownReference,
                        src,
                        &key,
                        word,
                        format!("`{word}` is not a value of {by} ({})", t.names().join(", ")),
                    );
                }
            }
            ok &= index.is_some();
        }
        ok.then_some(Amount::Tiered {
            fact,
            figure,
            tiers: slots,
        })
    }
}
