//! Business hours of the queue (`TWILIO_QUEUE_SID`): outside them `GET /v1/agents/availability` answers that no
//! agent is available, and when they are back, without asking Twilio (docs/auth-server.md, "Business hours").
//!
//! Configuration, three keys read by `config/validate.rs`:
//! - `BUSINESS_HOURS`: groups separated by `;`, each `DAYS RANGES`. `DAYS` is a comma list of days (`Mon` … `Sun`)
//!   or day ranges (`Mon-Fri`, also wrapping: `Sat-Sun`, `Fri-Mon`); `RANGES` a comma list of `HH:MM-HH:MM` local
//!   times, end after start, `24:00` allowed as an end. Example: `Mon-Fri 09:00-12:30,13:30-17:00; Sat 10:00-13:00`;
//!   `@` may stand for the space (`Mon-Fri@09:00-17:00;Sat@10:00-13:00`), the spelling an env file needs.
//!   Days not named are closed. A range cannot run past midnight: write `Fri 22:00-24:00; Sat 00:00-02:00`.
//! - `BUSINESS_TZ`: the IANA time zone the times are in (`Europe/Paris`); required with `BUSINESS_HOURS`. Times are
//!   wall-clock times there, so daylight saving time moves them with the clocks (jiff's tz database).
//! - `BUSINESS_HOLIDAYS`: a comma list of dates (`2026-12-25,2027-01-01`), closed all day in `BUSINESS_TZ`.
//!
//! Everything takes "now" as an argument, so the tests fix the clock.

use std::collections::BTreeSet;

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::Timestamp;

const DAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// How far ahead the next opening is looked for (a year and a bit: holidays cannot close more than that).
const LOOKAHEAD_DAYS: i32 = 400;

/// The business hours (`BUSINESS_HOURS`, `BUSINESS_TZ`, `BUSINESS_HOLIDAYS`): outside them no chat is started and the
/// availability answer says when agents are back. Built with [`BusinessHours::parse`].
#[derive(Debug, Clone)]
pub struct BusinessHours {
    tz: TimeZone,
    tz_name: String,
    /// Per weekday (Monday = 0), sorted `[start, end)` minutes after local midnight, end at most 1440.
    week: [Vec<(u16, u16)>; 7],
    holidays: BTreeSet<Date>,
}

/// Open or closed at a given moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Status {
    /// Within the business hours.
    Open,
    /// Outside the business hours.
    Closed {
        /// When the next business hours begin: RFC 3339 with the zone's offset at that moment; `None` when nothing
        /// opens within the next 400 days.
        opens_at: Option<String>,
    },
}

impl BusinessHours {
    /// Parses the three settings; the error names what is wrong (the caller prefixes the key).
    pub fn parse(hours: &str, tz: &str, holidays: Option<&str>) -> Result<BusinessHours, (&'static str, String)> {
        let zone = TimeZone::get(tz).map_err(|e| ("BUSINESS_TZ", format!("{tz:?} is not a known IANA time zone ({e})")))?;
        let week = parse_week(hours).map_err(|e| ("BUSINESS_HOURS", e))?;
        let mut days = BTreeSet::new();
        for d in holidays.unwrap_or("").split(',').map(str::trim).filter(|d| !d.is_empty()) {
            let date: Date = d.parse().map_err(|_| ("BUSINESS_HOLIDAYS", format!("{d:?} is not a date (YYYY-MM-DD)")))?;
            days.insert(date);
        }
        Ok(BusinessHours { tz: zone, tz_name: tz.to_string(), week, holidays: days })
    }

    /// The IANA time zone the hours are in (`BUSINESS_TZ`), e.g. `Europe/Paris`.
    pub fn time_zone(&self) -> &str {
        &self.tz_name
    }

    /// Open or closed at `now`, and when closed, when the next business hours begin.
    pub fn status(&self, now: Timestamp) -> Status {
        let local = now.to_zoned_datetime(self.tz.clone());
        let today = local.date();
        let minute = local.hour() as u16 * 60 + local.minute() as u16;
        if !self.holidays.contains(&today) && self.ranges(today).iter().any(|&(start, end)| start <= minute && minute < end) {
            return Status::Open;
        }
        Status::Closed { opens_at: self.next_opening(today, now) }
    }

    fn ranges(&self, date: Date) -> &[(u16, u16)] {
        &self.week[date.weekday().to_monday_zero_offset() as usize]
    }

    fn next_opening(&self, today: Date, now: Timestamp) -> Option<String> {
        let mut date = today;
        for _ in 0..LOOKAHEAD_DAYS {
            if !self.holidays.contains(&date) {
                for &(start, _) in self.ranges(date) {
                    // A start inside a daylight-saving gap moves forward, as the clocks do (jiff's "compatible").
                    let Ok(at) = date.at((start / 60) as i8, (start % 60) as i8, 0, 0).to_zoned_datetime(self.tz.clone()) else { continue };
                    if at.timestamp() > now {
                        return Some(at.timestamp().display_with_offset(at.offset()).to_string());
                    }
                }
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

fn parse_week(spec: &str) -> Result<[Vec<(u16, u16)>; 7], String> {
    let mut week: [Vec<(u16, u16)>; 7] = Default::default();
    let groups: Vec<&str> = spec.split(';').map(str::trim).filter(|g| !g.is_empty()).collect();
    if groups.is_empty() {
        return Err("is empty; e.g. \"Mon-Fri 09:00-17:00\"".into());
    }
    for group in groups {
        // `@` spells the same without a space: an unquoted space is a parse error for `.env` (dotenvy), and quotes
        // would become part of the value under Docker's --env-file (see envfile.rs).
        let (days, ranges) = group.split_once(|c: char| c.is_whitespace() || c == '@').ok_or_else(|| format!("{group:?}: expected days then times, e.g. \"Mon-Fri 09:00-17:00\""))?;
        let days = parse_days(days)?;
        let mut parsed = Vec::new();
        for range in ranges.split(',').map(str::trim).filter(|r| !r.is_empty()) {
            let (start, end) = range.split_once('-').ok_or_else(|| format!("{range:?}: expected HH:MM-HH:MM"))?;
            let (start, end) = (parse_time(start)?, parse_time(end)?);
            if start >= end {
                return Err(format!("{range:?}: the end must be after the start (a range cannot run past midnight)"));
            }
            parsed.push((start, end));
        }
        if parsed.is_empty() {
            return Err(format!("{group:?}: no times"));
        }
        for d in days {
            week[d].extend(parsed.iter().copied());
        }
    }
    for ranges in &mut week {
        ranges.sort_unstable();
    }
    Ok(week)
}

/// `Mon`, `Mon-Fri`, `Sat-Sun`, `Fri-Mon`, comma separated; indexes Monday = 0.
fn parse_days(spec: &str) -> Result<Vec<usize>, String> {
    let day = |s: &str| {
        let s = s.trim().to_ascii_lowercase();
        DAYS.iter()
            .position(|(name, weekday)| s == *name || s == format!("{weekday:?}").to_ascii_lowercase())
            .ok_or_else(|| format!("{s:?} is not a day (Mon … Sun)"))
    };
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (day(a)?, day(b)?);
                let mut d = a;
                loop {
                    out.push(d);
                    if d == b {
                        break;
                    }
                    d = (d + 1) % 7;
                }
            }
            None => out.push(day(part)?),
        }
    }
    Ok(out)
}

/// `HH:MM`, 00:00 to 24:00, as minutes after midnight.
fn parse_time(s: &str) -> Result<u16, String> {
    let s = s.trim();
    let bad = || format!("{s:?} is not a time (HH:MM)");
    let (h, m) = s.split_once(':').ok_or_else(bad)?;
    let (h, m): (u16, u16) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if m >= 60 || h > 24 || (h == 24 && m != 0) || s.len() != 5 {
        return Err(bad());
    }
    Ok(h * 60 + m)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn paris() -> BusinessHours {
        BusinessHours::parse("Mon-Fri 09:00-12:30,13:30-17:00; Sat 10:00-13:00", "Europe/Paris", Some("2026-12-25, 2027-01-01")).unwrap()
    }

    fn opens(h: &BusinessHours, now: &str) -> Option<String> {
        match h.status(at(now)) {
            Status::Open => panic!("open at {now}"),
            Status::Closed { opens_at } => opens_at,
        }
    }

    #[test]
    fn open_within_the_hours_in_the_business_time_zone() {
        let h = paris();
        // Tuesday 1 December 2026, Paris is UTC+1: 09:00 local is 08:00Z.
        assert_eq!(h.status(at("2026-12-01T08:00:00Z")), Status::Open);
        assert_eq!(h.status(at("2026-12-01T15:59:59Z")), Status::Open);
        assert_eq!(opens(&h, "2026-12-01T07:59:59Z").as_deref(), Some("2026-12-01T09:00:00+01:00"));
        // The lunch break, then the evening: the next range, then the next morning.
        assert_eq!(opens(&h, "2026-12-01T11:45:00Z").as_deref(), Some("2026-12-01T13:30:00+01:00"));
        assert_eq!(opens(&h, "2026-12-01T16:00:00Z").as_deref(), Some("2026-12-02T09:00:00+01:00"));
    }

    #[test]
    fn weekends_and_holidays_are_closed() {
        let h = paris();
        // Saturday 5 December after 13:00, Sunday: back on Monday.
        assert_eq!(h.status(at("2026-12-05T10:00:00Z")), Status::Open);
        assert_eq!(opens(&h, "2026-12-05T12:00:00Z").as_deref(), Some("2026-12-07T09:00:00+01:00"));
        assert_eq!(opens(&h, "2026-12-06T12:00:00Z").as_deref(), Some("2026-12-07T09:00:00+01:00"));
        // Friday 25 December is a holiday, at noon too; Saturday 26 opens at 10:00.
        assert_eq!(opens(&h, "2026-12-25T11:00:00Z").as_deref(), Some("2026-12-26T10:00:00+01:00"));
        // Thursday 31 December evening: Friday 1 January is a holiday, Saturday 2 opens.
        assert_eq!(opens(&h, "2026-12-31T18:00:00Z").as_deref(), Some("2027-01-02T10:00:00+01:00"));
    }

    #[test]
    fn daylight_saving_time_moves_the_hours_with_the_clocks() {
        let h = paris();
        // Summer: Paris is UTC+2, so 09:00 local is 07:00Z.
        assert_eq!(h.status(at("2026-07-01T07:00:00Z")), Status::Open);
        assert_eq!(opens(&h, "2026-07-01T06:59:00Z").as_deref(), Some("2026-07-01T09:00:00+02:00"));
        // Friday 23 October 2026 evening (UTC+2) to Monday 26 (after the change to UTC+1 on Sunday 25).
        assert_eq!(opens(&h, "2026-10-23T16:00:00Z").as_deref(), Some("2026-10-24T10:00:00+02:00"));
        assert_eq!(opens(&h, "2026-10-24T12:00:00Z").as_deref(), Some("2026-10-26T09:00:00+01:00"));
    }

    #[test]
    fn day_ranges_wrap_and_24_00_ends_the_day() {
        let h = BusinessHours::parse("Fri-Mon 20:00-24:00", "UTC", None).unwrap();
        assert_eq!(h.status(at("2026-12-06T23:59:59Z")), Status::Open, "Sunday");
        assert_eq!(opens(&h, "2026-12-08T00:00:00Z").as_deref(), Some("2026-12-11T20:00:00+00:00"), "Tuesday to Friday");
    }

    #[test]
    fn no_opening_within_the_lookahead_says_so() {
        let all_year: Vec<String> = (0..400).map(|i| Date::constant(2026, 12, 1).checked_add(jiff::Span::new().days(i)).unwrap().to_string()).collect();
        let h = BusinessHours::parse("Mon-Sun 09:00-17:00", "UTC", Some(&all_year.join(","))).unwrap();
        assert_eq!(h.status(at("2026-12-01T10:00:00Z")), Status::Closed { opens_at: None });
    }

    #[test]
    fn bad_settings_name_their_key() {
        assert_eq!(BusinessHours::parse("Mon-Fri 09:00-17:00", "Mars/Olympus", None).unwrap_err().0, "BUSINESS_TZ");
        let spaced = BusinessHours::parse("Mon-Fri 09:00-12:30,13:30-17:00; Sat 10:00-13:00", "UTC", None).unwrap();
        let env_file = BusinessHours::parse("Mon-Fri@09:00-12:30,13:30-17:00;Sat@10:00-13:00", "UTC", None).unwrap();
        assert_eq!(spaced.week, env_file.week, "`@` spells the space");
        for bad in ["", "Mon-Fri", "Mon-Fri 9-17", "Mon-Fri 17:00-09:00", "Funday 09:00-10:00", "Mon 09:00-24:30", "Mon 09:60-10:00"] {
            assert_eq!(BusinessHours::parse(bad, "UTC", None).unwrap_err().0, "BUSINESS_HOURS", "{bad:?}");
        }
        assert_eq!(BusinessHours::parse("Mon 09:00-10:00", "UTC", Some("2026-13-01")).unwrap_err().0, "BUSINESS_HOLIDAYS");
    }
}
