package intake

import (
	"errors"
	"testing"
	"time"
)

func TestValidPhone(t *testing.T) {
	tests := []struct {
		name, in, want string
		ok             bool
	}{
		{"plain", "13812345678", "13812345678", true},
		{"spaces", "138 1234 5678", "13812345678", true},
		{"dashes", "138-1234-5678", "13812345678", true},
		{"plus86", "+86 139 1234 5678", "13912345678", true},
		{"86 prefix", "8613912345678", "13912345678", true},
		{"0086 prefix", "0086-13912345678", "13912345678", true},
		{"full-width digits", "１３８１２３４５６７８", "13812345678", true},
		{"19x", "19912345678", "19912345678", true},
		{"too short", "1381234567", "", false},
		{"too long", "138123456789", "", false},
		{"second digit 2", "12812345678", "", false},
		{"landline", "010-12345678", "", false},
		{"letters", "1381234567a", "", false},
		{"empty", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ValidPhone(tt.in)
			if got != tt.want || ok != tt.ok {
				t.Errorf("ValidPhone(%q) = %q, %v, want %q, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestCheckIDCard(t *testing.T) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, in, want string
		err            error
	}{
		{"standard example with X", "11010519491231002X", "11010519491231002X", nil},
		{"lower-case x", "11010519491231002x", "11010519491231002X", nil},
		{"spaces", "440308 19900101 1239", "440308199001011239", nil},
		{"full-width", "４４０３０８１９９００１０１１２３９", "440308199001011239", nil},
		{"child", "320106201506150014", "320106201506150014", nil},
		{"wrong check digit", "440308199001011234", "", ErrIDChecksum},
		{"17 digits", "44030819900101123", "", ErrIDLength},
		{"15 digits (old format)", "440308900101123", "", ErrIDLength},
		{"letter inside", "4403081990010112A9", "", ErrIDFormat},
		{"region 000000", "000000199001011230", "", ErrIDRegion},
		{"unknown province", "990308199001011239", "", ErrIDRegion},
		{"February 30", "440308199002301234", "", ErrIDBirth},
		{"born 1850", "440308185001011234", "", ErrIDBirth},
		{"born in the future", "440308202712011234", "", ErrIDBirth},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CheckIDCard(tt.in, now)
			if got != tt.want || !errors.Is(err, tt.err) {
				t.Errorf("CheckIDCard(%q) = %q, %v, want %q, %v", tt.in, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestValidIDCard(t *testing.T) {
	tests := []struct {
		in string
		ok bool
	}{
		{"11010519491231002X", true},
		{"110105194912310021", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if _, ok := ValidIDCard(tt.in); ok != tt.ok {
				t.Errorf("ValidIDCard(%q) = %v, want %v", tt.in, ok, tt.ok)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	now := time.Date(2026, 11, 1, 9, 30, 0, 0, time.UTC)
	tests := []struct {
		name, in string
		now      time.Time
		want     string
		err      error
	}{
		{"iso", "2026-11-28", now, "2026-11-28", nil},
		{"slashes", "2026/11/28", now, "2026-11-28", nil},
		{"chinese", "2026年11月28日", now, "2026-11-28", nil},
		{"chinese 号", "2026年11月8号", now, "2026-11-08", nil},
		{"chinese numerals", "二〇二六年十一月二十八日", now, "2026-11-28", nil},
		{"compact", "20261128", now, "2026-11-28", nil},
		{"month and day", "11月28日", now, "2026-11-28", nil},
		{"month and day in numerals", "十二月一号", now, "2026-12-01", nil},
		{"spaces and full stop", " 2026 年 11 月 28 日。", now, "2026-11-28", nil},
		{"tomorrow", "明天", now, "2026-11-02", nil},
		{"day after tomorrow", "后天", now, "2026-11-03", nil},
		{"February 30", "2026-02-30", now, "", ErrDateInvalid},
		{"month 13", "2026年13月1日", now, "", ErrDateInvalid},
		{"compact impossible", "20260231", now, "", ErrDateInvalid},
		{"no year without now", "11月28日", time.Time{}, "", ErrDateNoYear},
		{"words", "下周找个时间", now, "", ErrDateFormat},
		{"empty", "", now, "", ErrDateFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDate(tt.in, tt.now)
			if !errors.Is(err, tt.err) {
				t.Fatalf("ParseDate(%q) error = %v, want %v", tt.in, err, tt.err)
			}
			if err == nil && got.Format(time.DateOnly) != tt.want {
				t.Errorf("ParseDate(%q) = %s, want %s", tt.in, got.Format(time.DateOnly), tt.want)
			}
		})
	}
}

func TestCNNumerals(t *testing.T) {
	tests := []struct{ in, want string }{
		{"一", "1"},
		{"十", "10"},
		{"十一", "11"},
		{"二十八", "28"},
		{"一百零五", "105"},
		{"二零二六", "2026"},
		{"幺三八", "138"},
		{"第三个", "第3个"},
		{"两", "2"},
		{"没有数字", "没有数字"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := cnNumerals(tt.in); got != tt.want {
				t.Errorf("cnNumerals(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMatchChoice(t *testing.T) {
	names := [][]string{{"咨询政策", "consult"}, {"申请帮助", "help"}, {"投诉", "complaint"}, {"举报", "report"}, {"提建议", "suggestion"}}
	tests := []struct {
		name, in string
		lenient  bool
		want     int
		ok       bool
	}{
		{"digit", "3", false, 2, true},
		{"full-width digit", "３", false, 2, true},
		{"keycap emoji", "3️⃣", false, 2, true},
		{"digit with full stop", "3。", false, 2, true},
		{"chinese numeral", "三", false, 2, true},
		{"ordinal", "第二个", false, 1, true},
		{"label", "投诉", false, 2, true},
		{"prefix", "咨询", false, 0, true},
		{"value", "help", false, 1, true},
		{"sentence, lenient", "我要投诉。", true, 2, true},
		{"sentence, strict", "我要投诉", false, 0, false},
		{"out of range", "6", true, 0, false},
		{"zero", "0", true, 0, false},
		{"nothing", "随便", true, 0, false},
		{"two options named", "投诉和举报", true, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := matchChoice(tt.in, names, tt.lenient)
			if got != tt.want || ok != tt.ok {
				t.Errorf("matchChoice(%q) = %d, %v, want %d, %v", tt.in, got, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestOrdinal(t *testing.T) {
	tests := []struct {
		in   string
		want int
	}{
		{"2", 2},
		{"12", 12},
		{"123", 0},
		{"第2个", 2},
		{"选2", 2},
		{"选择 2", 0},
		{"选择2", 2},
		{"2号", 2},
		{"第十二项", 12},
		{"２。", 2},
		{"第", 0},
		{"个", 0},
		{"第2个个", 0},
		{"a2", 0},
		{"", 0},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := ordinal(tt.in); got != tt.want {
				t.Errorf("ordinal(%q) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestClean(t *testing.T) {
	tests := []struct{ in, want string }{
		{" 帮助！", "帮助"},
		{"ＯＫ", "ok"},
		{"Yes.", "yes"},
		{"ÄB", "äb"},
		{"。。。", "。。。"},
		{"1️⃣", "1"},
		{"　返回　", "返回"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := clean(tt.in); got != tt.want {
				t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestMeaningful(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"你好", true},
		{"1", true},
		{"😀😀😀", false},
		{"👍🏻", false},
		{"[微笑][强]", false},
		{"/::)/::P", false},
		{"！！！。。。", false},
		{"   ", false},
		{"", false},
		{"好😀", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := meaningful(tt.in); got != tt.want {
				t.Errorf("meaningful(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
