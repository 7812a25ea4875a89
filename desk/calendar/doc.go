// Package calendar is the working-time calendar that service-desk deadlines
// are counted on (即时办理 / 限时办结): which days are working days, the
// office hours within them, and the arithmetic of deadlines in working days
// and working hours.
//
// # Data
//
// Working days follow the State Council's yearly arrangement: statutory
// holidays, and the weekend days that become working days to make up for them
// (调休). The arrangement is data, one YAML file per year named after it
// (2026.yaml):
//
//	source: 国务院办公厅 2025-11-04
//	holidays:
//	  - {date: 2026-02-15, name: 春节}
//	workdays:
//	  - {date: 2026-02-14, name: 春节} # Saturday
//
// holidays lists every date off with the festival it belongs to; workdays
// lists the make-up working days, which must fall on a Saturday or Sunday.
// Every other Monday to Friday is a working day. The files in data/ are
// embedded as the defaults; [Load] reads a directory whose files replace or
// add whole years, so a bureau adds next year's file without a rebuild. A
// malformed file is a [*DataError] naming the file, the line and the reason.
//
// A year without a file counts Monday to Friday as working days: the next
// year's arrangement is announced only near the end of the current one and
// must not be guessed. [Calendar.MissingYears] lets the service warn at
// start-up until the file is added.
//
// # Working time
//
// Office hours are [Hours] in the calendar's location (Asia/Shanghai unless
// configured; the time zone database is embedded, so the default works on
// hosts without tzdata). Working time is half-open: with the default hours
// 08:30–12:00 and 13:30–17:30, 08:30 and 13:30 are inside, 12:00 and 17:30
// are not. A deadline computed in working hours may therefore be the end of
// a period, such as 17:30.
//
// Deadlines in working days follow the 12345 hotline rules: a matter is
// counted from the working day after the day it was received, and is due at
// the end of the n-th working day ([Calendar.AddWorkingDays]). Urgent matters
// are counted in working hours ([Calendar.AddWorkingDuration]), and reminders
// at a share of the time allowed ([Calendar.Fraction],
// [Calendar.WorkingDurationBetween]).
//
// A [Calendar] is immutable once built and safe for concurrent use.
package calendar
