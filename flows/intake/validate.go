package intake

import (
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Reasons an ID number is refused by [CheckIDCard].
var (
	ErrIDLength   = errors.New("resident ID must have 18 characters")
	ErrIDFormat   = errors.New("resident ID must be 17 digits and a digit or X")
	ErrIDRegion   = errors.New("resident ID has no valid region code")
	ErrIDBirth    = errors.New("resident ID has an impossible birth date")
	ErrIDChecksum = errors.New("resident ID check digit does not match")
)

// Reasons a date is refused by [ParseDate].
var (
	ErrDateFormat  = errors.New("not a date")
	ErrDateInvalid = errors.New("no such day")
	ErrDateNoYear  = errors.New("date without a year and no current time")
)

// phoneRE is a mainland mobile number after clean-up.
var phoneRE = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// ValidPhone reports whether s is a mainland mobile number and returns it as
// 11 digits. Spaces, dashes, brackets, full-width digits and a +86, 86 or
// 0086 prefix are tolerated.
func ValidPhone(s string) (string, bool) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '(', ')', '（', '）', '　', '—', '－', '\t':
			return -1
		}
		return r
	}, halfWidth(s))
	switch {
	case strings.HasPrefix(s, "+86"):
		s = s[3:]
	case strings.HasPrefix(s, "0086"):
		s = s[4:]
	case len(s) == 13 && strings.HasPrefix(s, "86"):
		s = s[2:]
	}
	if !phoneRE.MatchString(s) {
		return "", false
	}
	return s, true
}

// idProvinces are the first two digits of the region codes in use.
const idProvinces = "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83 91"

// CheckIDCard checks an 18-character resident ID number (GB 11643-1999):
// the format, a province code in use, a birth date that exists (from 1900,
// and not after now unless now is zero) and the check digit. It returns the
// number with spaces removed and a lower-case x raised, or one of the ErrID
// errors.
func CheckIDCard(s string, now time.Time) (string, error) {
	s = strings.ToUpper(strings.Join(strings.Fields(halfWidth(s)), ""))
	if utf8.RuneCountInString(s) != 18 {
		return "", ErrIDLength
	}
	for i := range 17 {
		if s[i] < '0' || s[i] > '9' {
			return "", ErrIDFormat
		}
	}
	if (s[17] < '0' || s[17] > '9') && s[17] != 'X' {
		return "", ErrIDFormat
	}
	if s[:6] == "000000" || !slices.Contains(strings.Fields(idProvinces), s[:2]) {
		return "", ErrIDRegion
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Year() < 1900 || (!now.IsZero() && birth.After(now)) {
		return "", ErrIDBirth
	}
	// The GB 11643-1999 weights of the first 17 digits.
	weights := [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, w := range weights {
		sum += int(s[i]-'0') * w
	}
	if "10X98765432"[sum%11] != s[17] {
		return "", ErrIDChecksum
	}
	return s, nil
}

// ValidIDCard reports whether s is a valid resident ID number, as
// [CheckIDCard] with no current time, and returns it cleaned up.
func ValidIDCard(s string) (string, bool) {
	id, err := CheckIDCard(s, time.Time{})
	return id, err == nil
}

var (
	dateFull    = regexp.MustCompile(`^([0-9]{4})[-/.年]([0-9]{1,2})[-/.月]([0-9]{1,2})[日号]?$`)
	dateCompact = regexp.MustCompile(`^([0-9]{4})([0-9]{2})([0-9]{2})$`)
	dateShort   = regexp.MustCompile(`^([0-9]{1,2})[月/-]([0-9]{1,2})[日号]?$`)
)

// ParseDate reads a date as citizens write or say it: 2026-11-28,
// 2026/11/28, 2026年11月28日, 二〇二六年十一月二十八日, 20261128, 11月28日
// (in the year of now), and 今天, 明天, 后天. Impossible days such as
// 2026-02-30 are refused with [ErrDateInvalid]. The result is midnight in
// now's location (UTC when now is zero); a date without a year needs now.
func ParseDate(s string, now time.Time) (time.Time, error) {
	s = strings.Join(strings.Fields(halfWidth(s)), "")
	s = strings.TrimRight(s, "。.!！")
	loc := time.UTC
	if !now.IsZero() {
		loc = now.Location()
	}
	switch s {
	case "今天", "明天", "后天":
		if now.IsZero() {
			return time.Time{}, ErrDateNoYear
		}
		y, m, d := now.Date()
		add := map[string]int{"今天": 0, "明天": 1, "后天": 2}[s]
		return time.Date(y, m, d+add, 0, 0, 0, 0, loc), nil
	}
	s = cnNumerals(s)
	var y, m, d string
	if g := dateFull.FindStringSubmatch(s); g != nil {
		y, m, d = g[1], g[2], g[3]
	} else if g := dateCompact.FindStringSubmatch(s); g != nil {
		y, m, d = g[1], g[2], g[3]
	} else if g := dateShort.FindStringSubmatch(s); g != nil {
		if now.IsZero() {
			return time.Time{}, ErrDateNoYear
		}
		y, m, d = strconv.Itoa(now.Year()), g[1], g[2]
	} else {
		return time.Time{}, ErrDateFormat
	}
	yi, _ := strconv.Atoi(y) // the patterns admit digits only
	mi, _ := strconv.Atoi(m)
	di, _ := strconv.Atoi(d)
	t := time.Date(yi, time.Month(mi), di, 0, 0, 0, 0, loc)
	if yi < 1900 || yi > 2100 || t.Month() != time.Month(mi) || t.Day() != di {
		return time.Time{}, ErrDateInvalid
	}
	return t, nil
}
