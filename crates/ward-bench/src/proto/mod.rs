//! Payload builders, one family per file: clinical protocols (DICOM, HL7/MLLP, ASTM),
//! network services (DHCP, DNS/mDNS, SSDP, LLDP, CDP, SNMP) and applications (HTTP, TLS,
//! SMB2, Telnet, FTP, SSH). They produce bytes exactly as the standards lay them out, so
//! that independent dissectors (Wireshark's, Ward's) parse them.

pub(crate) mod app;
pub(crate) mod clinical;
pub(crate) mod net;

/// `YYYYMMDDHHMMSS` of a Unix time in microseconds (UTC), as HL7 DTM and DICOM DA/TM use.
pub(crate) fn civil_timestamp(ts_us: u64) -> String {
    let secs = ts_us / 1_000_000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's `civil_from_days`
/// algorithm (public domain description at howardhinnant.github.io/date_algorithms.html).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_timestamp_known_dates() {
        assert_eq!(super::civil_timestamp(0), "19700101000000");
        // 2026-11-29 08:00:00 UTC
        assert_eq!(
            super::civil_timestamp(1_795_939_200_000_000),
            "20261129080000"
        );
        // 2024-02-29 12:34:56 UTC (leap day)
        assert_eq!(
            super::civil_timestamp(1_709_210_096_000_000),
            "20240229123456"
        );
    }
}
