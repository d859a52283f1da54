//! The finding lifecycle: statuses, allowed transitions, and the audit record each
//! change leaves (who, when, why). The store and the audit log live in the server; the
//! rules live here so every front end enforces the same ones.

use serde::{Deserialize, Serialize};

/// Where a finding is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingStatus {
    Open,
    InTriage,
    Affected,
    Mitigated,
    RiskAccepted,
    FalsePositive,
    Fixed,
}

impl FindingStatus {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::InTriage => "in_triage",
            Self::Affected => "affected",
            Self::Mitigated => "mitigated",
            Self::RiskAccepted => "risk_accepted",
            Self::FalsePositive => "false_positive",
            Self::Fixed => "fixed",
        }
    }

    /// Statuses that end the analyst's work (the finding leaves the open list).
    pub fn is_closed(&self) -> bool {
        matches!(self, Self::FalsePositive | Self::Fixed | Self::RiskAccepted)
    }

    /// The statuses this one may move to.
    pub fn allowed_next(&self) -> &'static [FindingStatus] {
        use FindingStatus::*;
        match self {
            Open => &[InTriage, Affected, FalsePositive, Fixed],
            InTriage => &[Affected, FalsePositive, Fixed, Open],
            Affected => &[Mitigated, RiskAccepted, Fixed, InTriage],
            Mitigated => &[Affected, RiskAccepted, Fixed],
            // An accepted risk comes back when it expires (see `expire`), or is fixed.
            RiskAccepted => &[Affected, Fixed],
            // A dismissed match can be reopened if new evidence appears.
            FalsePositive => &[Open],
            // A fixed finding reopens when the vulnerable version is seen again.
            Fixed => &[Open],
        }
    }
}

/// One status change, as the audit log records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Transition {
    pub finding_id: String,
    pub from: FindingStatus,
    pub to: FindingStatus,
    pub who: String,
    /// RFC 3339 UTC.
    pub when: String,
    pub why: String,
    /// For `risk_accepted`: when the acceptance lapses (RFC 3339 date or date-time).
    pub expires: Option<String>,
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LifecycleError {
    #[error("finding {finding}: cannot go from {from} to {to}")]
    NotAllowed {
        finding: String,
        from: &'static str,
        to: &'static str,
    },
    #[error("finding {finding}: a change needs who, when and why")]
    MissingAudit { finding: String },
    #[error("finding {finding}: risk acceptance needs an expiry date after {when}")]
    AcceptanceNeedsExpiry { finding: String, when: String },
}

/// A finding's lifecycle state and history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    pub finding_id: String,
    pub status: FindingStatus,
    pub history: Vec<Transition>,
}

impl Lifecycle {
    pub fn new(finding_id: &str) -> Self {
        Lifecycle {
            finding_id: finding_id.to_string(),
            status: FindingStatus::Open,
            history: Vec::new(),
        }
    }

    /// Applies a change if the rules allow it; records it in the history.
    pub fn change(
        &mut self,
        to: FindingStatus,
        who: &str,
        when: &str,
        why: &str,
        expires: Option<&str>,
    ) -> Result<&Transition, LifecycleError> {
        if who.trim().is_empty() || when.trim().is_empty() || why.trim().is_empty() {
            return Err(LifecycleError::MissingAudit {
                finding: self.finding_id.clone(),
            });
        }
        if !self.status.allowed_next().contains(&to) {
            return Err(LifecycleError::NotAllowed {
                finding: self.finding_id.clone(),
                from: self.status.as_str(),
                to: to.as_str(),
            });
        }
        if to == FindingStatus::RiskAccepted {
            // RFC 3339 strings of the same shape order lexicographically.
            let ok = expires
                .is_some_and(|e| !e.trim().is_empty() && e > &when[..when.len().min(e.len())]);
            if !ok {
                return Err(LifecycleError::AcceptanceNeedsExpiry {
                    finding: self.finding_id.clone(),
                    when: when.to_string(),
                });
            }
        }
        self.history.push(Transition {
            finding_id: self.finding_id.clone(),
            from: self.status,
            to,
            who: who.to_string(),
            when: when.to_string(),
            why: why.to_string(),
            expires: expires.map(str::to_string),
        });
        self.status = to;
        Ok(self.history.last().expect("just pushed"))
    }

    /// Returns a lapsed risk acceptance to `affected` (recorded as done by "ward").
    pub fn expire(&mut self, now: &str) -> bool {
        if self.status != FindingStatus::RiskAccepted {
            return false;
        }
        let lapsed = self
            .history
            .last()
            .and_then(|t| t.expires.as_deref())
            .is_some_and(|e| e <= &now[..now.len().min(e.len())]);
        if lapsed {
            self.history.push(Transition {
                finding_id: self.finding_id.clone(),
                from: FindingStatus::RiskAccepted,
                to: FindingStatus::Affected,
                who: "ward".into(),
                when: now.to_string(),
                why: "risk acceptance expired".into(),
                expires: None,
            });
            self.status = FindingStatus::Affected;
        }
        lapsed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use FindingStatus::*;

    #[test]
    fn full_life_with_audit() {
        let mut l = Lifecycle::new("F-1");
        l.change(
            InTriage,
            "ana",
            "2026-01-02T10:00:00Z",
            "new KEV match",
            None,
        )
        .unwrap();
        l.change(
            Affected,
            "ana",
            "2026-01-03T10:00:00Z",
            "firmware 9.1 confirmed on site",
            None,
        )
        .unwrap();
        let e = l
            .change(
                RiskAccepted,
                "ciso",
                "2026-01-04T10:00:00Z",
                "no fix yet",
                None,
            )
            .unwrap_err();
        assert!(matches!(e, LifecycleError::AcceptanceNeedsExpiry { .. }));
        l.change(
            RiskAccepted,
            "ciso",
            "2026-01-04T10:00:00Z",
            "no fix yet; segmented",
            Some("2026-04-01"),
        )
        .unwrap();
        assert!(!l.expire("2026-03-31T23:59:59Z"));
        assert!(l.expire("2026-04-01T00:00:00Z"));
        assert_eq!(l.status, Affected);
        l.change(
            Fixed,
            "bio",
            "2026-05-01T00:00:00Z",
            "updated to 9.33",
            None,
        )
        .unwrap();
        assert_eq!(l.history.len(), 5);
        assert_eq!(l.history[3].who, "ward");
        assert!(l.status.is_closed());
    }

    #[test]
    fn refused_transitions() {
        let mut l = Lifecycle::new("F-2");
        let e = l
            .change(Mitigated, "ana", "2026-01-02T10:00:00Z", "x", None)
            .unwrap_err();
        assert_eq!(
            e,
            LifecycleError::NotAllowed {
                finding: "F-2".into(),
                from: "open",
                to: "mitigated"
            }
        );
        assert!(matches!(
            l.change(FalsePositive, "", "2026-01-02T10:00:00Z", "x", None),
            Err(LifecycleError::MissingAudit { .. })
        ));
        l.change(
            FalsePositive,
            "ana",
            "2026-01-02T10:00:00Z",
            "different product line",
            None,
        )
        .unwrap();
        assert_eq!(l.status.allowed_next(), &[Open]);
    }
}
