//! Dates for the report, from seconds since the Unix epoch, without a date library.

/// `2023-11-14 22:13:20 UTC` from seconds since the Unix epoch; "unknown" for 0.
pub(super) fn utc_date_time(epoch: u64) -> String {
    if epoch == 0 {
        return "unknown".to_string();
    }
    let (year, month, day) = civil_date(epoch / 86_400);
    let secs = epoch % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// The proleptic Gregorian date `days` days after 1970-01-01.
fn civil_date(days: u64) -> (u64, u64, u64) {
    // Count from 0000-03-01, so that the leap day ends each 4-year cycle, in eras of
    // 400 years (146,097 days).
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    // Months from March: 0 = March … 11 = February.
    let m = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * m + 2) / 5 + 1;
    let month = if m < 10 { m + 3 } else { m - 9 };
    let year = era * 400 + year_of_era + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::utc_date_time;

    #[test]
    fn formats_dates() {
        assert_eq!(utc_date_time(1), "1970-01-01 00:00:01 UTC");
        assert_eq!(utc_date_time(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_date_time(951_868_799), "2000-02-29 23:59:59 UTC");
        assert_eq!(utc_date_time(1_709_251_199), "2024-02-29 23:59:59 UTC");
        assert_eq!(utc_date_time(4_102_444_800), "2100-01-01 00:00:00 UTC");
    }
}
