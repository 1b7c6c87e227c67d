//! Persons: founders and talents, with the facts the policy engine reads.
//!
//! Resident id numbers are validated (GB 11643) and stored as ciphertext
//! (`crypto::DataKey`) plus a keyed hash for exact search; no part of the
//! number is stored in clear. Every reader sees the number masked to its first
//! and last characters and the birth year; the full birth date only those
//! who act on the record (authz `PersonalData`: the person, their district's
//! reviewer, administrators; not auditors); the whole number its owner, and
//! the others of `PersonalData` only by [`Services::reveal_resident_id`],
//! which writes an audit entry. Audit entries hold the view every reader
//! sees (mask and birth year), never the number or the parts that complete it.
//!
//! Rows stored before migration `m0011_resident_id_search` have no search
//! hash: the migration cannot reach the data key, so
//! [`Services::backfill_resident_id_hashes`] computes them at service
//! start-up (`opcity` runs it whenever it opens the store); it is idempotent
//! and does nothing once every row has its hash.

use super::{Checker, DEGREES, ListFilter, Paged, Paging, store_scope};
use crate::ErrorCode;
use crate::Services;
use crate::authz::{Action, Actor, Listing, Resource, authorize, list_scope};
use crate::crypto::DataKey;
use crate::error::{FieldError, Result, ServiceError};
use crate::matching::Affected;
use chrono::{Datelike, NaiveDate};
use opcity_domain::{District, ResidentId, ResidentIdError, Role, resident_id};
use opcity_store::entity::person;
use opcity_store::registry::{self, PersonFields, PersonSearch, SealedResidentId};

#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PersonInput {
    pub full_name: String,
    pub district: Option<String>,
    pub email: Option<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// `none`, `associate`, `bachelor`, `master` or `doctorate`.
    pub highest_degree: Option<String>,
    pub degree_date: Option<String>,
    pub overseas_degree: Option<bool>,
    /// `false` = known not to hold Shenzhen hukou; absent = unknown.
    pub has_shenzhen_hukou: Option<bool>,
    pub hukou_shenzhen_since: Option<String>,
    pub works_in_ai: Option<bool>,
    pub kunpeng_selected: Option<bool>,
    pub high_level_talent: Option<bool>,
    /// 18-character resident id number; stored encrypted.
    pub resident_id: Option<String>,
    /// The account this person signs in with (set by administrators at
    /// creation; a founder entering their own record gets their account).
    pub account_id: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct PersonView {
    pub id: i64,
    pub account_id: Option<i64>,
    pub full_name: String,
    #[schema(value_type = Option<String>)]
    pub district: Option<District>,
    pub email: Option<String>,
    /// The full birth date, only for readers who act on the record (the
    /// person, their district's reviewer, administrators); `null` for the
    /// others, who see `birth_year`.
    pub birth_date: Option<NaiveDate>,
    /// The year of birth, for every reader.
    pub birth_year: Option<i32>,
    pub highest_degree: Option<String>,
    pub degree_date: Option<NaiveDate>,
    pub overseas_degree: Option<bool>,
    pub has_shenzhen_hukou: Option<bool>,
    pub hukou_shenzhen_since: Option<NaiveDate>,
    pub works_in_ai: Option<bool>,
    pub kunpeng_selected: Option<bool>,
    pub high_level_talent: Option<bool>,
    /// Masked for everyone to its first and last characters
    /// (`4****************X`), so nothing else shown completes it.
    pub resident_id_masked: Option<String>,
    /// The full number, present only when the reader is the person themself
    /// (others who need it reveal it: `POST /api/v1/persons/{id}/resident-id/reveal`, audited).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resident_id: Option<String>,
    /// Whether this reader may reveal the whole number (a number is on file
    /// and they act on the record).
    pub may_reveal_resident_id: bool,
}

/// The whole resident id number of a person, revealed to a reader who needs it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct RevealedResidentId {
    pub person_id: i64,
    pub resident_id: String,
}

/// A person's audit entry (before or after) as it may be shown: entries
/// written before masks kept only the first and last characters hold the
/// old mask (first six, last four) beside the full birth date, which
/// together are the whole number. The chain forbids rewriting them, so they
/// are redacted when read: the mask cut to its first and last characters,
/// the birth date to its year. Entries written since hold no more than that.
pub(crate) fn redact_audit_value(value: &mut serde_json::Value) {
    let Some(fields) = value.as_object_mut() else {
        return;
    };
    if let Some(serde_json::Value::String(masked)) = fields.get_mut("resident_id_masked") {
        *masked = resident_id::mask(masked);
    }
    let full_birth_date = fields
        .get("birth_date")
        .and_then(serde_json::Value::as_str)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
    if let Some(date) = full_birth_date {
        fields.insert("birth_date".into(), serde_json::Value::Null);
        fields.insert("birth_year".into(), date.year().into());
    }
    // The whole number never belonged in an entry; should one hold it, it is not shown.
    fields.remove("resident_id");
}

/// The number in a stored ciphertext, or `None` (logged) when it does not decrypt.
fn decrypt_resident_id(key: &DataKey, model: &person::Model) -> Option<String> {
    let cipher = model.resident_id_cipher.as_deref()?;
    match key.decrypt(cipher) {
        Ok(plain) => Some(plain),
        Err(err) => {
            tracing::error!(person = model.id, error = %err, "resident id does not decrypt");
            None
        }
    }
}

/// What every reader of the record may see: the resident id masked (from
/// the decrypted number: no part of it is stored in clear), the birth year.
/// Also what audit entries hold.
pub(crate) fn public_view(key: &DataKey, p: &person::Model) -> PersonView {
    let resident_id_masked = p.resident_id_cipher.as_ref().map(|_| {
        // A number that does not decrypt is still on file: masked whole.
        decrypt_resident_id(key, p).map_or_else(|| "*".repeat(18), |n| resident_id::mask(&n))
    });
    PersonView {
        id: p.id,
        account_id: p.account_id,
        full_name: p.full_name.clone(),
        district: p.district.as_deref().and_then(|d| d.parse().ok()),
        email: p.email.clone(),
        birth_date: None,
        birth_year: p.birth_date.map(|d| d.year()),
        highest_degree: p.highest_degree.clone(),
        degree_date: p.degree_date,
        overseas_degree: p.overseas_degree,
        has_shenzhen_hukou: p.has_shenzhen_hukou,
        hukou_shenzhen_since: p.hukou_shenzhen_since,
        works_in_ai: p.works_in_ai,
        kunpeng_selected: p.kunpeng_selected,
        high_level_talent: p.high_level_talent,
        resident_id_masked,
        resident_id: None,
        may_reveal_resident_id: false,
    }
}

pub(crate) struct ValidPerson {
    full_name: String,
    pub(crate) district: Option<District>,
    email: Option<String>,
    birth_date: Option<NaiveDate>,
    highest_degree: Option<String>,
    degree_date: Option<NaiveDate>,
    has_shenzhen_hukou: Option<bool>,
    hukou_shenzhen_since: Option<NaiveDate>,
    resident_id: Option<ResidentId>,
}

/// Another person holds this resident id number (one person per number).
pub(crate) fn resident_id_taken() -> ServiceError {
    ServiceError::Conflict {
        code: ErrorCode::ResidentIdTaken,
        field: Some("resident_id"),
    }
}

/// A precise, localisable error for each way an id number can be wrong.
pub(crate) fn resident_id_error(err: ResidentIdError) -> FieldError {
    let e = |code| FieldError::new("resident_id", code);
    match err {
        ResidentIdError::Length(n) => e("resident_id_length").with("length", n),
        ResidentIdError::Digits => e("resident_id_digits"),
        ResidentIdError::BirthDate => e("resident_id_birth_date"),
        ResidentIdError::Check { found, expected } => e("resident_id_check")
            .with("found", found)
            .with("expected", expected),
    }
}

pub(crate) fn validate(input: &PersonInput, today: NaiveDate) -> Result<ValidPerson> {
    let mut c = Checker::default();
    let full_name = c.required_text("full_name", &input.full_name, 100);
    let district = match input
        .district
        .as_deref()
        .map(str::trim)
        .filter(|d| !d.is_empty())
    {
        Some(d) => c.district("district", d),
        None => None,
    };
    let email = c.optional_text("email", input.email.as_deref(), 200);
    if email
        .as_deref()
        .is_some_and(|e| !e.contains('@') || e.starts_with('@') || e.ends_with('@'))
    {
        c.push(FieldError::new("email", "invalid_email"));
    }
    let birth_date = c.date("birth_date", input.birth_date.as_deref(), today);
    let highest_degree = c.one_of("highest_degree", input.highest_degree.as_deref(), &DEGREES);
    let degree_date = c.date("degree_date", input.degree_date.as_deref(), today);
    if let (Some(birth), Some(degree)) = (birth_date, degree_date)
        && degree <= birth
    {
        c.push(FieldError::new("degree_date", "before_birth"));
    }
    let hukou_shenzhen_since = c.date(
        "hukou_shenzhen_since",
        input.hukou_shenzhen_since.as_deref(),
        today,
    );
    // A hukou date implies Shenzhen hukou; saying "no hukou" with a date is contradictory.
    let has_shenzhen_hukou = match (input.has_shenzhen_hukou, hukou_shenzhen_since) {
        (Some(false), Some(_)) => {
            c.push(FieldError::new(
                "hukou_shenzhen_since",
                "hukou_date_without_hukou",
            ));
            Some(false)
        }
        (_, Some(_)) => Some(true),
        (stated, None) => stated,
    };
    let resident_id = match input
        .resident_id
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
    {
        Some(text) => match ResidentId::parse(text) {
            Ok(id) => {
                if birth_date.is_some_and(|b| b != id.birth_date()) {
                    c.push(FieldError::new("resident_id", "resident_id_birth_mismatch"));
                }
                Some(id)
            }
            Err(err) => {
                c.push(resident_id_error(err));
                None
            }
        },
        None => None,
    };
    c.finish()?;
    Ok(ValidPerson {
        full_name,
        district,
        email,
        birth_date: birth_date.or(resident_id.as_ref().map(ResidentId::birth_date)),
        highest_degree,
        degree_date,
        has_shenzhen_hukou,
        hukou_shenzhen_since,
        resident_id,
    })
}

impl Services {
    /// What the store writes of a checked input: the resident id number
    /// only as its ciphertext and search hash.
    pub(crate) fn person_fields(&self, input: &PersonInput, v: ValidPerson) -> PersonFields {
        PersonFields {
            full_name: v.full_name,
            district: v.district.map(|d| d.id().to_owned()),
            email: v.email,
            birth_date: v.birth_date,
            highest_degree: v.highest_degree,
            degree_date: v.degree_date,
            overseas_degree: input.overseas_degree,
            has_shenzhen_hukou: v.has_shenzhen_hukou,
            hukou_shenzhen_since: v.hukou_shenzhen_since,
            works_in_ai: input.works_in_ai,
            kunpeng_selected: input.kunpeng_selected,
            high_level_talent: input.high_level_talent,
            // An edit that leaves the number out keeps the stored one.
            resident_id: v.resident_id.map(|id| SealedResidentId {
                cipher: self.data_key().encrypt(id.expose()),
                hash: self.data_key().search_hash(id.expose()),
            }),
        }
    }

    /// The view a reader may see: the full birth date for those who act on
    /// the record (authz `PersonalData`), the whole resident id for its owner.
    pub(crate) fn person_view_for(&self, actor: &Actor, model: &person::Model) -> PersonView {
        let mut view = public_view(self.data_key(), model);
        let personal = authorize(
            actor,
            Action::Read,
            Resource::PersonalData {
                person_id: model.id,
                district: view.district,
            },
        )
        .is_ok();
        if personal {
            view.birth_date = model.birth_date;
            view.may_reveal_resident_id = model.resident_id_cipher.is_some();
        }
        if actor.person_id == Some(model.id) {
            view.resident_id = decrypt_resident_id(self.data_key(), model);
        }
        view
    }

    pub async fn list_persons(
        &self,
        actor: &Actor,
        filter: &ListFilter,
        paging: Paging,
    ) -> Result<Paged<PersonView>> {
        // A whole resident id number finds its person by the keyed hash
        // (exact match only: no part of a number is stored to match on).
        let search =
            filter
                .q
                .as_deref()
                .filter(|q| !q.is_empty())
                .map(|q| match ResidentId::parse(q) {
                    Ok(number) => {
                        PersonSearch::ResidentIdHash(self.data_key().search_hash(number.expose()))
                    }
                    Err(_) => PersonSearch::Name(q),
                });
        let listed = registry::list_persons(
            self.store().db(),
            store_scope(list_scope(actor, Listing::Persons)),
            filter.district.map(|d| d.id()),
            search,
            paging.store_page(),
        )
        .await?;
        let total = listed.total;
        let items = listed
            .rows
            .iter()
            .map(|p| self.person_view_for(actor, p))
            .collect();
        Ok(Paged {
            items,
            page: paging.page,
            per_page: paging.per_page,
            total,
        })
    }

    pub async fn get_person(&self, actor: &Actor, id: i64) -> Result<PersonView> {
        let model = self.readable_person(actor, id).await?;
        Ok(self.person_view_for(actor, &model))
    }

    /// The person `id`, once `actor` may read it.
    async fn readable_person(&self, actor: &Actor, id: i64) -> Result<person::Model> {
        let model = registry::person(self.store().db(), id)
            .await?
            .ok_or(ServiceError::NotFound { entity: "person" })?;
        let district = model.district.as_deref().and_then(|d| d.parse().ok());
        authorize(
            actor,
            Action::Read,
            Resource::Person {
                id: Some(id),
                district,
            },
        )?;
        Ok(model)
    }

    pub async fn create_person(&self, actor: &Actor, input: &PersonInput) -> Result<PersonView> {
        let now = self.now();
        let valid = validate(input, opcity_domain::today_in_shanghai(now))?;
        authorize(
            actor,
            Action::Create,
            Resource::Person {
                id: None,
                district: valid.district,
            },
        )?;
        // A founder enters their own record: it is linked to their account
        // (the account's unique link refuses a second one made at once).
        let account_id = match actor.role {
            Role::Founder => match input.account_id {
                None => Some(actor.account_id),
                Some(id) if id == actor.account_id => Some(id),
                Some(_) => return Err(ServiceError::Forbidden),
            },
            _ => input.account_id,
        };
        let fields = self.person_fields(input, valid);
        let tx = self.store().begin().await?;
        let saved = registry::insert_person(&tx, account_id, fields, now)
            .await
            .map_err(|err| match err {
                err if err.is_unique_on("account_id") => ServiceError::Conflict {
                    code: ErrorCode::AccountHasPerson,
                    field: Some("account_id"),
                },
                err if err.is_unique_on("resident_id_hash") => resident_id_taken(),
                opcity_store::StoreError::ForeignKey(_) => {
                    ServiceError::invalid("account_id", "unknown_account")
                }
                err => err.into(),
            })?;
        let view = public_view(self.data_key(), &saved);
        let label = actor.audit_label();
        let change = crate::change(&label, "person.create", saved.id, None, Some(&view));
        self.commit_fact_change(tx, now, change, Affected::person(saved.id))
            .await?;
        Ok(self.person_view_for(actor, &saved))
    }

    pub async fn update_person(
        &self,
        actor: &Actor,
        id: i64,
        input: &PersonInput,
    ) -> Result<PersonView> {
        let now = self.now();
        let valid = validate(input, opcity_domain::today_in_shanghai(now))?;
        let tx = self.store().begin().await?;
        let existing = registry::person(&tx, id)
            .await?
            .ok_or(ServiceError::NotFound { entity: "person" })?;
        let before = public_view(self.data_key(), &existing);
        authorize(
            actor,
            Action::Update,
            Resource::Person {
                id: Some(id),
                district: before.district,
            },
        )?;
        authorize(
            actor,
            Action::Update,
            Resource::Person {
                id: Some(id),
                district: valid.district,
            },
        )?;
        if input
            .account_id
            .is_some_and(|a| Some(a) != existing.account_id)
        {
            return Err(ServiceError::invalid("account_id", "immutable"));
        }
        let fields = self.person_fields(input, valid);
        let saved = registry::update_person(&tx, id, fields, now)
            .await
            .map_err(|err| match err {
                err if err.is_unique_on("resident_id_hash") => resident_id_taken(),
                err => err.into(),
            })?;
        let after = public_view(self.data_key(), &saved);
        let label = actor.audit_label();
        let change = crate::change(&label, "person.update", id, Some(&before), Some(&after));
        self.commit_fact_change(tx, now, change, Affected::person(saved.id))
            .await?;
        Ok(self.person_view_for(actor, &saved))
    }

    /// The whole resident id number of person `id`, for a reader who needs
    /// it (authz `PersonalData`: the person, their district's reviewer,
    /// administrators). The reveal itself is an audit entry
    /// (`person.reveal_resident_id`, holding the mask only), written before
    /// the number is returned; a refusal writes nothing.
    pub async fn reveal_resident_id(&self, actor: &Actor, id: i64) -> Result<RevealedResidentId> {
        let model = self.readable_person(actor, id).await?;
        let district = model.district.as_deref().and_then(|d| d.parse().ok());
        authorize(
            actor,
            Action::Read,
            Resource::PersonalData {
                person_id: id,
                district,
            },
        )?;
        let cipher = model
            .resident_id_cipher
            .as_deref()
            .ok_or(ServiceError::NotFound {
                entity: "resident_id",
            })?;
        let number = self
            .data_key()
            .decrypt(cipher)
            .map_err(|err| ServiceError::Internal(Box::new(err)))?;
        #[derive(serde::Serialize)]
        struct Revealed {
            resident_id_masked: String,
        }
        let now = self.now();
        let tx = self.store().begin().await?;
        crate::record_change(
            &tx,
            now,
            &actor.audit_label(),
            "person.reveal_resident_id",
            id,
            None,
            Some(&Revealed {
                resident_id_masked: resident_id::mask(&number),
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(RevealedResidentId {
            person_id: id,
            resident_id: number,
        })
    }

    /// Computes the search hash of every stored resident id that has none:
    /// rows stored before migration `m0011_resident_id_search`, which could
    /// not reach the data key. Run at service start-up; idempotent (only rows
    /// without a hash are read, and each is written only if still without
    /// one), so it does nothing once every row has its hash. A ciphertext
    /// that does not decrypt with this key is logged and left as it is.
    /// Returns how many rows it hashed.
    pub async fn backfill_resident_id_hashes(&self) -> Result<u64> {
        const BATCH: u64 = 500;
        let mut after = 0i64;
        let mut hashed = 0u64;
        loop {
            let rows =
                registry::persons_without_search_hash(self.store().db(), after, BATCH).await?;
            let Some(last) = rows.last() else {
                return Ok(hashed);
            };
            after = last.id;
            let tx = self.store().begin().await?;
            for row in &rows {
                let Some(number) = decrypt_resident_id(self.data_key(), row) else {
                    continue;
                };
                let hash = self.data_key().search_hash(&number);
                // One person per number (m0026): a second holder stored
                // before the rule is named for a person to resolve, not
                // allowed to stop the service from starting.
                let holders = opcity_store::bulk::persons_by_resident_id_hash(
                    &*tx,
                    std::slice::from_ref(&hash),
                )
                .await?;
                if let Some(holder) = holders.get(&hash) {
                    tracing::warn!(
                        person = row.id,
                        other = holder.id,
                        "two persons hold one resident id number; left without a search hash"
                    );
                    continue;
                }
                if registry::set_search_hash_if_missing(&tx, row.id, &hash).await? {
                    hashed += 1;
                }
            }
            tx.commit().await?;
        }
    }
}
