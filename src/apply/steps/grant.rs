//! The grant step: key access for the principal the account will use, as
//! an access policy (read first) or a role assignment (named after what it
//! grants, so writing it again changes nothing), waiting out a
//! just-created identity's way into the directory.

use super::{fail, record, stop, Runner};
use crate::apply::failure::Failure;
use crate::apply::report::{StepResult, StepStatus};
use crate::apply::wait::{self, Waited};
use crate::audit::classify::policy_gap;
use crate::azure::authorization::RoleAssignment;
use crate::azure::id::ResourceId;

use crate::plan::{AccessPolicyGrant, Principal, RoleAssignmentGrant};
use std::time::Instant;

impl Runner<'_> {
    /// The principal id of a grant: known in the plan, or of the identity
    /// the identity step saw (read only when that step did not run).
    async fn principal_id(&self, principal: &Principal, step: &str) -> Result<String, Failure> {
        match principal {
            Principal::Known { principal_id } => Ok(principal_id.clone()),
            Principal::OfIdentity { identity_id } => {
                let rid = ResourceId::parse(identity_id)
                    .map_err(|e| stop(step, e.to_string(), "run plan again"))?;
                // As the identity step saw it, else read; one seen without
                // a principal is read again.
                let held = self
                    .snapshot
                    .identity(self.arm, &rid)
                    .await
                    .map_err(|e| fail(step, e))?;
                let identity = match held {
                    Some(identity) if identity.principal_id.is_some() => Some(identity),
                    _ => self
                        .snapshot
                        .read_identity(self.arm, &rid)
                        .await
                        .map_err(|e| fail(step, e))?,
                };
                let identity = identity.ok_or_else(|| {
                    stop(
                        step,
                        format!("{identity_id} does not exist"),
                        "run plan again",
                    )
                })?;
                identity.principal_id.ok_or_else(|| {
                    stop(
                        step,
                        format!("{identity_id} has no principal id yet"),
                        "run apply again in a minute",
                    )
                })
            }
        }
    }

    /// Key access in the vault's access policies, read first.
    pub(super) async fn grant_access_policy(
        &mut self,
        desired: &AccessPolicyGrant,
    ) -> Result<StepResult, Failure> {
        let (vault_id, principal) = (&desired.vault_id, &desired.principal);
        {
            let step = "access_policy";
            let principal = self.principal_id(principal, step).await?;
            let id = format!("{vault_id}/accessPolicies/{principal}");
            let rid = ResourceId::parse(vault_id)
                .map_err(|e| stop(step, e.to_string(), "run plan again"))?;
            let vault = self
                .snapshot
                .read_vault(self.arm, &rid)
                .await
                .map_err(|e| fail(step, e))?
                .ok_or_else(|| {
                    stop(step, format!("{vault_id} does not exist"), "run plan again")
                })?;
            if policy_gap(&vault, &principal).is_none() {
                return Ok(record(step, &id, StepStatus::AlreadyDone, None));
            }
            desired
                .request(Some(&principal))
                .send(self.arm)
                .await
                .map_err(|e| fail(step, e))?;
            // The policy's answer is not the vault: the verification reads
            // the vault again, with the policy.
            self.snapshot.forget(rid.as_str());
            self.granted = Some(Instant::now());
            Ok(record(step, &id, StepStatus::Created, Some(desired.call())))
        }
    }

    /// The role assignment. Written without reading it first: the plan found
    /// none, and writing it again under its name changes nothing (ARM answers
    /// 200 instead of 201).
    pub(super) async fn assign_role(
        &mut self,
        desired: &RoleAssignmentGrant,
    ) -> Result<StepResult, Failure> {
        let (id, role_definition_id, principal) =
            (&desired.id, &desired.role_definition_id, &desired.principal);
        {
            let step = "role_assignment";
            let principal = self.principal_id(principal, step).await?;
            // Held as the vault's list, which the verification asks for.
            let account = self.account;
            let vault_scope = account.targets.vault_id.as_str();
            let scope = id
                .split("/providers/Microsoft.Authorization/")
                .next()
                .unwrap_or_default();
            let assignment = RoleAssignment {
                id: id.clone(),
                scope: scope.to_string(),
                role_definition_id: role_definition_id.clone(),
                principal_id: principal.clone(),
                description: Some(desired.description.clone()),
            };
            // A just-created identity may not be in the directory yet: PrincipalNotFound.
            let request = desired.request(Some(&principal));
            // 201: created; 200: there under this name already.
            let created = wait::retry_propagation(self.propagation_timeout(), || async {
                request.send(self.arm).await.map(|a| a.status == 201)
            })
            .await;
            match created {
                    Waited::Done(true) => {
                        self.granted = Some(Instant::now());
                        self.snapshot.feed_assignment(vault_scope, assignment);
                        Ok(record(step, id, StepStatus::Created, Some(desired.call())))
                    }
                    Waited::Done(false) => {
                        self.snapshot.feed_assignment(vault_scope, assignment);
                        Ok(record(step, id, StepStatus::AlreadyDone, None))
                    }
                    // The same grant under another name: already there.
                    Waited::Failed(e) if e.code() == Some("RoleAssignmentExists") => {
                        Ok(record(step, id, StepStatus::AlreadyDone, None))
                    }
                    Waited::Failed(e) => Err(fail(step, e)),
                    Waited::TimedOut(e) => Err(stop(
                        step,
                        format!("the identity did not reach the directory within the propagation timeout: {e}"),
                        "run apply again in a few minutes, or raise --propagation-timeout",
                    )),
                }
        }
    }
}
