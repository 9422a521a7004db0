//! Estates at scale: a one-account template built through ARM, instantiated
//! as emulator state for thousands of subscriptions.

use super::*;
use actlog_cmk::demo::requests::{self, Request};

pub(crate) const TEMPLATE_SUB: &str = "5ca1ab1e-0000-4000-8000-00000000beef";
pub(crate) const TEMPLATE_ACCOUNT: &str = "benchtemplate01";
pub(crate) const RESOURCE_GROUP: &str = "rg-logs";

pub(crate) fn sub_id(group: u16, index: usize) -> String {
    format!("5ca1ab1e-{group:04x}-4000-8000-{index:012x}")
}

/// Subscriptions, destination accounts (subscription, name) and diagnostic
/// settings (subscription, index of the account it sends to).
#[derive(Default)]
pub(crate) struct Estate {
    pub(crate) subscriptions: Vec<String>,
    pub(crate) accounts: Vec<(String, String)>,
    pub(crate) settings: Vec<(String, usize)>,
}

impl Estate {
    /// `s` subscriptions; every two share one destination account in the
    /// first of them, so `A = ceil(S/2)` and the audit must read each once.
    pub(crate) fn audit(s: usize) -> Estate {
        let mut e = Estate::default();
        for i in 0..s {
            e.subscriptions.push(sub_id(1, i));
            if i % 2 == 0 {
                e.accounts.push((sub_id(1, i), format!("audit{i:07}")));
            }
            e.settings.push((sub_id(1, i), i / 2));
        }
        e
    }

    /// `n` subscriptions, each sending to its own account.
    pub(crate) fn spread(n: usize) -> Estate {
        let mut e = Estate::default();
        for i in 0..n {
            e.subscriptions.push(sub_id(2, i));
            e.accounts.push((sub_id(2, i), format!("spread{i:06}")));
            e.settings.push((sub_id(2, i), i));
        }
        e
    }

    /// `n` accounts in one logging subscription, each receiving the
    /// activity log of one of `n` other subscriptions (a subscription has at
    /// most five diagnostic settings).
    pub(crate) fn one_subscription(n: usize) -> Estate {
        let mut e = Estate::default();
        let central = sub_id(3, 0);
        e.subscriptions.push(central.clone());
        for i in 0..n {
            e.accounts.push((central.clone(), format!("central{i:05}")));
            e.subscriptions.push(sub_id(4, i));
            e.settings.push((sub_id(4, i), i));
        }
        e
    }
}

/// One entry of each kind the emulator made for a one-account estate:
/// (key in its map, value).
pub(crate) struct Template {
    pub(crate) subscription: (String, Value),
    pub(crate) resource_group: (String, Value),
    pub(crate) account: (String, Value),
    pub(crate) setting: (String, Value),
}

pub(crate) fn instantiate(entry: &(String, Value), replace: &[(&str, &str)]) -> (String, Value) {
    let mut text = json!([entry.0, entry.1]).to_string();
    for (from, to) in replace {
        text = text.replace(from, to);
    }
    let pair: Value = serde_json::from_str(&text).expect("template entry stays JSON");
    (
        pair[0].as_str().unwrap_or_default().to_string(),
        pair[1].clone(),
    )
}

impl Template {
    /// Builds the one-account estate through ARM in a scratch emulator and
    /// keeps what its saved state holds for it.
    pub(crate) async fn capture() -> Template {
        let bench = Bench::start(Settings::instant(), State::default()).await;
        let token = bench.token().await;
        bench
            .admin(
                reqwest::Method::PUT,
                &format!("/subscriptions/{TEMPLATE_SUB}"),
                Some(json!({"displayName": "template"})),
            )
            .await;
        // The same requests the demo and the tests build estates with.
        let account = requests::storage_account_id(TEMPLATE_SUB, RESOURCE_GROUP, TEMPLATE_ACCOUNT);
        let categories = ["Administrative", "Security"];
        for Request { method, path, body } in [
            requests::resource_group(TEMPLATE_SUB, RESOURCE_GROUP, "westeurope"),
            requests::storage_account(&account, "westeurope", None),
            requests::diagnostic_setting(TEMPLATE_SUB, "activity-log", &account, &categories, true),
        ] {
            let response = bench
                .client
                .request(method.clone(), format!("{}{path}", bench.endpoint()))
                .bearer_auth(&token)
                .json(&body)
                .send()
                .await
                .expect("ARM call");
            let status = response.status();
            assert!(
                status.is_success(),
                "{method} {path}: {status} {}",
                response.text().await.unwrap_or_default()
            );
        }
        let state = bench.admin(reqwest::Method::GET, "/state", None).await;
        bench.stop().await;
        let entry = |path: &[&str]| -> (String, Value) {
            let map = path
                .iter()
                .fold(&state, |v, k| &v[*k])
                .as_object()
                .unwrap_or_else(|| panic!("no {path:?} in the emulator state"));
            let (k, v) = map
                .iter()
                .find(|(k, _)| k.contains(TEMPLATE_SUB))
                .unwrap_or_else(|| panic!("no template entry in {path:?}"));
            (k.clone(), v.clone())
        };
        Template {
            subscription: entry(&["subscriptions"]),
            resource_group: entry(&["resourceGroups"]),
            account: entry(&["storage", "accounts"]),
            setting: entry(&["insights", "diagnosticSettings"]),
        }
    }

    pub(crate) fn state(&self, estate: &Estate) -> State {
        let mut subscriptions = Map::new();
        for (i, sub) in estate.subscriptions.iter().enumerate() {
            let (k, mut v) = instantiate(&self.subscription, &[(TEMPLATE_SUB, sub)]);
            v["displayName"] = json!(format!("bench {i}"));
            subscriptions.insert(k, v);
        }
        let mut groups = Map::new();
        let mut accounts = Map::new();
        let mut account_ids = Vec::new();
        for (sub, name) in &estate.accounts {
            let (k, v) = instantiate(&self.resource_group, &[(TEMPLATE_SUB, sub)]);
            groups.insert(k, v);
            let (k, v) = instantiate(
                &self.account,
                &[(TEMPLATE_SUB, sub), (TEMPLATE_ACCOUNT, name)],
            );
            account_ids.push(v["id"].clone());
            accounts.insert(k, v);
        }
        let mut settings = Map::new();
        for (sub, account) in &estate.settings {
            let (k, mut v) = instantiate(&self.setting, &[(TEMPLATE_SUB, sub)]);
            v["storageAccountId"] = account_ids[*account].clone();
            settings.insert(k, v);
        }
        serde_json::from_value(json!({
            "subscriptions": subscriptions,
            "resourceGroups": groups,
            "storage": {"accounts": accounts, "operations": {}},
            "insights": {"diagnosticSettings": settings, "logProfiles": {}},
        }))
        .expect("the generated estate is an emulator state")
    }
}
