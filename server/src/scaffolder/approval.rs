//! `backlot:approval`: a step that waits for people. Reached, it asks the named approvers
//! (users and groups) and the task waits, holding no worker, until one of them approves or
//! rejects it with a reason, or the request expires ([`super::tasks::TaskService`] keeps the
//! requests and decisions). Approved, the task resumes at this step, which then passes with who
//! approved and why; rejected or expired, the task fails. A dry-run skips it.

use super::actions::{string, Action, ActionContext, ActionError, ApprovalRequest};
use crate::catalog::reference::parse_ref;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::time::Duration;

/// The longest an approval may stay open.
const MAX_EXPIRY_HOURS: f64 = 24.0 * 90.0;

pub struct Approval;

/// The approvers of the input: entity references of users and groups, normalised.
fn approvers(input: &Value) -> Result<Vec<String>, ActionError> {
    let list = match input.get("approvers") {
        Some(Value::Array(list)) if !list.is_empty() => list,
        Some(Value::String(one)) if !one.is_empty() => {
            return approvers(&json!({"approvers": [one]}));
        }
        _ => {
            return Err(ActionError::Input(
                "approvers: is required: a list of users and groups (user:default/jane, group:default/leads)".into(),
            ))
        }
    };
    let mut out = Vec::new();
    for (i, item) in list.iter().enumerate() {
        let text = item.as_str().unwrap_or_default();
        let parsed = parse_ref(text, None, "default").map_err(|_| {
            ActionError::Input(format!(
                "approvers[{i}]: {item} is not an entity reference of a user or group (user:default/jane, group:default/leads)"
            ))
        })?;
        if !matches!(parsed.kind.to_ascii_lowercase().as_str(), "user" | "group") {
            return Err(ActionError::Input(format!(
                "approvers[{i}]: {text} is a {}; approvers are users and groups",
                parsed.kind
            )));
        }
        out.push(parsed.to_ref_string());
    }
    out.sort();
    out.dedup();
    Ok(out)
}

#[async_trait]
impl Action for Approval {
    fn id(&self) -> &'static str {
        "backlot:approval"
    }
    fn description(&self) -> &'static str {
        "Waits until one of the approvers approves the task (it resumes here) or rejects it (it fails); an approval not decided in time fails the task. Backlot's own action."
    }
    fn input_schema(&self) -> Value {
        json!({
            "type": "object",
            "required": ["approvers"],
            "properties": {
                "approvers": {
                    "title": "Approvers",
                    "description": "Users and groups who may approve, as entity references (user:default/jane, group:default/leads). Whoever started the task may not approve it unless the policy gives them scaffolder.approval.decide.",
                    "type": "array",
                    "items": {"type": "string"},
                },
                "message": {
                    "title": "Message",
                    "description": "What the approvers are asked (Markdown).",
                    "type": "string",
                },
                "expiresInHours": {
                    "title": "Expires in (hours)",
                    "description": "How long the request stays open (at most 90 days); without it, until decided.",
                    "type": "number",
                },
            },
        })
    }
    fn output_schema(&self) -> Value {
        json!({
            "type": "object",
            "properties": {
                "approvedBy": {"title": "Who approved", "type": "string", "examples": ["user:default/jane"]},
                "reason": {"title": "Why", "type": "string", "examples": ["Looks good"]},
                "approvedAt": {"title": "When (ISO-8601)", "type": "string", "examples": ["2026-01-01T00:00:00.000Z"]},
            },
        })
    }
    fn supports_dry_run(&self) -> bool {
        false
    }
    async fn run(
        &self,
        ctx: &mut ActionContext<'_>,
        input: &Value,
    ) -> Result<Map<String, Value>, ActionError> {
        let approvers = approvers(input)?;
        let message = string(input, "message")?
            .unwrap_or("Approve this task?")
            .to_string();
        let expires_in = match input.get("expiresInHours") {
            None | Some(Value::Null) => None,
            Some(v) => match v.as_f64() {
                Some(h) if h > 0.0 && h <= MAX_EXPIRY_HOURS => {
                    Some(Duration::from_secs_f64(h * 3600.0))
                }
                _ => {
                    return Err(ActionError::Input(format!(
                        "expiresInHours: must be a number of hours above 0 and at most {MAX_EXPIRY_HOURS}, got {v}"
                    )))
                }
            },
        };
        let decision = ctx
            .task("backlot:approval")?
            .approvals
            .get(ctx.step_id)
            .cloned();
        match decision {
            Some(d) if d.status == "approved" => {
                let by = d.by.clone().unwrap_or_default();
                ctx.log.push(format!(
                    "Approved by {by}{}",
                    d.reason
                        .as_deref()
                        .filter(|r| !r.is_empty())
                        .map(|r| format!(": {r}"))
                        .unwrap_or_default()
                ));
                let mut out = Map::new();
                out.insert("approvedBy".into(), Value::String(by));
                out.insert(
                    "reason".into(),
                    Value::String(d.reason.clone().unwrap_or_default()),
                );
                if let Some(at) = d.at {
                    out.insert(
                        "approvedAt".into(),
                        Value::String(crate::util::format_rfc3339(
                            at.div_euclid(1000),
                            at.rem_euclid(1000) as u32,
                        )),
                    );
                }
                Ok(out)
            }
            // Not asked yet, or asked again after a retry of a rejected or expired request.
            _ => Err(ActionError::Waiting(ApprovalRequest {
                approvers,
                message,
                expires_in,
            })),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn approvers_are_users_and_groups() {
        assert_eq!(
            approvers(
                &json!({"approvers": ["group:leads", "user:default/jane", "group:default/leads"]})
            )
            .unwrap(),
            ["group:default/leads", "user:default/jane"]
        );
        assert_eq!(
            approvers(&json!({"approvers": "user:default/jane"})).unwrap(),
            ["user:default/jane"]
        );
        for bad in [
            json!({}),
            json!({"approvers": []}),
            json!({"approvers": ["jane"]}),
            json!({"approvers": ["component:default/x"]}),
        ] {
            assert!(
                matches!(approvers(&bad), Err(ActionError::Input(_))),
                "{bad}"
            );
        }
    }
}
