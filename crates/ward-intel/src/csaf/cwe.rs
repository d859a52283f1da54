//! CWE names for CSAF mandatory test 6.1.11 ("CWE": the id exists and the name is the
//! one the catalogue gives it).
//!
//! The test corpus holds no CWE catalogue and no crate on the package registry ships one,
//! so Ward checks the id's format always and the name against this small built-in table.
//! Source of the names: MITRE, "CWE List Version 4.15" (2024-07-16),
//! <https://cwe.mitre.org/data/index.html>, weakness titles as published. The table
//! holds the weaknesses the CISA medical advisories and the OASIS examples use plus
//! the 2024 CWE Top 25. An id not in the table is not judged (no finding): a full check
//! needs the whole catalogue, which can be supplied through
//! [`super::ValidationOptions::cwe_name`].

/// `(id, name)`, sorted by the numeric id (the lookup relies on it).
const CWE_NAMES: &[(u32, &str)] = &[
    (20, "Improper Input Validation"),
    (22, "Improper Limitation of a Pathname to a Restricted Directory ('Path Traversal')"),
    (23, "Relative Path Traversal"),
    (74, "Improper Neutralization of Special Elements in Output Used by a Downstream Component ('Injection')"),
    (77, "Improper Neutralization of Special Elements used in a Command ('Command Injection')"),
    (78, "Improper Neutralization of Special Elements used in an OS Command ('OS Command Injection')"),
    (79, "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"),
    (88, "Improper Neutralization of Argument Delimiters in a Command ('Argument Injection')"),
    (89, "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"),
    (94, "Improper Control of Generation of Code ('Code Injection')"),
    (119, "Improper Restriction of Operations within the Bounds of a Memory Buffer"),
    (120, "Buffer Copy without Checking Size of Input ('Classic Buffer Overflow')"),
    (121, "Stack-based Buffer Overflow"),
    (122, "Heap-based Buffer Overflow"),
    (125, "Out-of-bounds Read"),
    (130, "Improper Handling of Length Parameter Inconsistency"),
    (176, "Improper Handling of Unicode Encoding"),
    (190, "Integer Overflow or Wraparound"),
    (191, "Integer Underflow (Wrap or Wraparound)"),
    (200, "Exposure of Sensitive Information to an Unauthorized Actor"),
    (256, "Plaintext Storage of a Password"),
    (259, "Use of Hard-coded Password"),
    (260, "Password in Configuration File"),
    (269, "Improper Privilege Management"),
    (284, "Improper Access Control"),
    (287, "Improper Authentication"),
    (295, "Improper Certificate Validation"),
    (299, "Improper Check for Certificate Revocation"),
    (300, "Channel Accessible by Non-Endpoint"),
    (306, "Missing Authentication for Critical Function"),
    (311, "Missing Encryption of Sensitive Data"),
    (319, "Cleartext Transmission of Sensitive Information"),
    (324, "Use of a Key Past its Expiration Date"),
    (326, "Inadequate Encryption Strength"),
    (327, "Use of a Broken or Risky Cryptographic Algorithm"),
    (345, "Insufficient Verification of Data Authenticity"),
    (347, "Improper Verification of Cryptographic Signature"),
    (352, "Cross-Site Request Forgery (CSRF)"),
    (354, "Improper Validation of Integrity Check Value"),
    (362, "Concurrent Execution using Shared Resource with Improper Synchronization ('Race Condition')"),
    (384, "Session Fixation"),
    (400, "Uncontrolled Resource Consumption"),
    (416, "Use After Free"),
    (428, "Unquoted Search Path or Element"),
    (434, "Unrestricted Upload of File with Dangerous Type"),
    (476, "NULL Pointer Dereference"),
    (489, "Active Debug Code"),
    (497, "Exposure of Sensitive System Information to an Unauthorized Control Sphere"),
    (502, "Deserialization of Untrusted Data"),
    (521, "Weak Password Requirements"),
    (522, "Insufficiently Protected Credentials"),
    (523, "Unprotected Transport of Credentials"),
    (532, "Insertion of Sensitive Information into Log File"),
    (548, "Exposure of Information Through Directory Listing"),
    (552, "Files or Directories Accessible to External Parties"),
    (601, "URL Redirection to Untrusted Site ('Open Redirect')"),
    (603, "Use of Client-Side Authentication"),
    (611, "Improper Restriction of XML External Entity Reference"),
    (643, "Improper Neutralization of Data within XPath Expressions ('XPath Injection')"),
    (665, "Improper Initialization"),
    (668, "Exposure of Resource to Wrong Sphere"),
    (672, "Operation on a Resource after Expiration or Release"),
    (693, "Protection Mechanism Failure"),
    (707, "Improper Neutralization"),
    (710, "Improper Adherence to Coding Standards"),
    (732, "Incorrect Permission Assignment for Critical Resource"),
    (759, "Use of a One-Way Hash without a Salt"),
    (770, "Allocation of Resources Without Limits or Throttling"),
    (787, "Out-of-bounds Write"),
    (798, "Use of Hard-coded Credentials"),
    (862, "Missing Authorization"),
    (863, "Incorrect Authorization"),
    (918, "Server-Side Request Forgery (SSRF)"),
    (1104, "Use of Unmaintained Third Party Components"),
    (1188, "Initialization of a Resource with an Insecure Default"),
    (1236, "Improper Neutralization of Formula Elements in a CSV File"),
    (1286, "Improper Validation of Syntactic Correctness of Input"),
    (1392, "Use of Default Credentials"),
];

/// The numeric part of a well-formed CWE id (`CWE-` then 1 to 6 digits, no leading
/// zero), as the CSAF 2.0 schema's pattern `^CWE-[1-9]\d{0,5}$` requires.
pub fn parse_id(id: &str) -> Option<u32> {
    let n = id.strip_prefix("CWE-")?;
    if n.is_empty() || n.len() > 6 || n.starts_with('0') || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    n.parse().ok()
}

/// The built-in table's name for `id` ("CWE-79"), if the table holds it.
pub fn builtin_name(id: &str) -> Option<&'static str> {
    let n = parse_id(id)?;
    CWE_NAMES
        .binary_search_by_key(&n, |(k, _)| *k)
        .ok()
        .and_then(|i| CWE_NAMES.get(i))
        .map(|(_, name)| *name)
}

/// Number of CWEs the built-in table knows.
pub fn builtin_len() -> usize {
    CWE_NAMES.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(CWE_NAMES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn lookup() {
        assert_eq!(builtin_name("CWE-20"), Some("Improper Input Validation"));
        assert_eq!(builtin_name("CWE-1392"), Some("Use of Default Credentials"));
        assert_eq!(builtin_name("CWE-99999"), None);
        assert_eq!(builtin_name("CWE-079"), None);
        assert_eq!(parse_id("CWE-"), None);
        assert_eq!(parse_id("CWE-1234567"), None);
        assert_eq!(parse_id("cwe-79"), None);
    }
}
