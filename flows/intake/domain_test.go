package intake

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestDefaultsStateNoLocalFigures scans the built-in YAML against the
// domain rules: no amount, percentage, multiple or age that national rules
// do not fix (local figures come from the bureau's configuration), no
// phone number or fixed date (an example goes stale, a number is
// invented), and no answer that sends a citizen to an office it does not
// name.
func TestDefaultsStateNoLocalFigures(t *testing.T) {
	n := `[0-9０-９一二三四五六七八九十百千万两]`
	figures := []*regexp.Regexp{
		regexp.MustCompile(n + `+(\.[0-9]+)?\s*(元|块|%|％|倍|岁|周岁|年以上|年以下)`),
		regexp.MustCompile(`百分之|[0-9]{4}年[0-9]{1,2}月|1[3-9][0-9]{9}|[0-9]{3,4}-[0-9]{7,8}`),
	}
	// National wording that may stand: 《社会救助暂行办法》 on 特困人员.
	allowed := []string{"未满16周岁"}
	vague := []string{"请咨询街道", "请咨询区", "请咨询社区", "民政办"}
	err := fs.WalkDir(Defaults(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		raw, err := fs.ReadFile(Defaults(), path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(raw), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "#") {
				continue
			}
			clean := line
			for _, a := range allowed {
				clean = strings.ReplaceAll(clean, a, "")
			}
			for _, re := range figures {
				if m := re.FindString(clean); m != "" {
					t.Errorf("%s:%d states %q: local figures come from configuration, examples are computed", path, i+1, m)
				}
			}
			for _, v := range vague {
				if strings.Contains(line, v) {
					t.Errorf("%s:%d sends the citizen to an office it does not name (%q): end with the configured office", path, i+1, v)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTekunWording checks the legal wording of 特困人员 (《社会救助暂行办法》):
// elderly people, disabled people and minors under 16, not minors alone.
func TestTekunWording(t *testing.T) {
	got := said(defaultSet(t).Idle(text("特困供养什么条件")))
	for _, w := range []string{"老年人、残疾人以及未满16周岁的未成年人", "无劳动能力", "无生活来源", "《社会救助暂行办法》"} {
		if !strings.Contains(got, w) {
			t.Errorf("特困 answer %q lacks %q", got, w)
		}
	}
}

// TestAnswersNameTheirOffice checks 一次性告知: an answer that sends the
// citizen somewhere ends with the office and how to reach it, with only
// what the configuration gives, whether it comes from the knowledge base
// or from a flow's ending.
func TestAnswersNameTheirOffice(t *testing.T) {
	tests := []struct {
		name      string
		office    Office
		want, not []string
	}{
		{"full contact", Office{Address: "人民路1号", Hours: "工作日8:30-17:30", Phone: "0000-0000000"},
			[]string{"办理部门：婚姻登记处\n地址：人民路1号\n办公时间：工作日8:30-17:30\n电话：0000-0000000"}, nil},
		{"only a phone", Office{Phone: "0000-0000000"},
			[]string{"办理部门：婚姻登记处\n电话：0000-0000000"}, []string{"地址", "办公时间", "{"}},
		{"no contact", Office{},
			[]string{"办理部门：婚姻登记处"}, []string{"地址", "办公时间", "电话", "{"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.office
			o.ID, o.Name, o.Lines = "marriage-office", "婚姻登记处", []string{"marriage"}
			s := defaultSet(t).WithOptions(Options{Offices: []Office{o}})
			kb := s.Idle(text("结婚证丢了怎么补"))
			ending := converse(t, s, "marriage", text("3")) // 登记要带什么
			for where, r := range map[string]Result{"knowledge base": kb, "flow ending": ending} {
				if r.Outcome == nil || r.Outcome.Kind != OutcomeAnswer {
					t.Fatalf("%s: outcome %+v, want an answer", where, r.Outcome)
				}
				for _, w := range tt.want {
					if !strings.Contains(said(r), w) || !strings.Contains(r.Outcome.Text, w) {
						t.Errorf("%s: said %q, outcome %q; want %q", where, said(r), r.Outcome.Text, w)
					}
				}
				for _, n := range tt.not {
					if strings.Contains(said(r), n) {
						t.Errorf("%s: said %q, has %q although nothing was configured", where, said(r), n)
					}
				}
			}
		})
	}
}

// TestAnswerOfficeChoice checks which office an answer names: an outside
// agency that took over a line (优抚 since 2018: the 退役军人事务局) before
// the department, an office an entry names by ID, and nothing at all when
// nobody is configured — never a guessed office.
func TestAnswerOfficeChoice(t *testing.T) {
	dept := Office{ID: "affairs", Name: "优抚安置科", Lines: []string{"veterans", "military"}, Phone: "0000-1111111"}
	agency := Office{ID: "veterans-bureau", Name: "区退役军人事务局", Lines: []string{"veterans"}, Outside: true, Phone: "0000-2222222"}
	s := defaultSet(t).WithOptions(Options{Offices: []Office{dept, agency}})
	if got := said(s.Idle(text("优待证在哪里办"))); !strings.Contains(got, "办理部门：区退役军人事务局\n电话：0000-2222222") || strings.Contains(got, "优抚安置科") {
		t.Errorf("veterans answer %q, want the agency that handles the line", got)
	}
	if got := said(s.Idle(text("军属有哪些优待"))); !strings.Contains(got, "办理部门：优抚安置科") {
		t.Errorf("military answer %q, want the department (no agency lists the line)", got)
	}
	if got := said(defaultSet(t).Idle(text("优待证在哪里办"))); strings.Contains(got, "办理部门") {
		t.Errorf("answer %q names an office although none is configured", got)
	}

	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"kb-local.yaml": `entries:
  - id: card-local
    line: military
    office: veterans-bureau
    question: 军属优待证在哪办？
    keywords: [军属优待证]
    answer: 军属优待证由退役军人事务部门办理。
`})
	set, err := Load(Defaults(), dir)
	if err != nil {
		t.Fatal(err)
	}
	s = set.WithOptions(Options{Offices: []Office{dept, agency}})
	if got := said(s.Idle(text("军属优待证"))); !strings.Contains(got, "办理部门：区退役军人事务局") {
		t.Errorf("answer %q, want the office the entry names by ID", got)
	}
	if got := s.UnknownOffices(); len(got) == 0 || slices.Contains(got, "veterans-bureau") || slices.Contains(got, "veterans") {
		t.Errorf("UnknownOffices() = %v, want the lines nobody answers for, not veterans", got)
	}
}

// TestOfficeTextNamesTheOffice checks that a bureau's texts.yaml cannot
// drop the office's name from the office block.
func TestOfficeTextNamesTheOffice(t *testing.T) {
	raw, err := fs.ReadFile(Defaults(), "texts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bad := strings.Replace(string(raw), "办理部门：{name}", "办理部门：", 1)
	if err := os.WriteFile(filepath.Join(dir, "texts.yaml"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(Defaults(), dir); err == nil || !strings.Contains(err.Error(), "{name}") {
		t.Errorf("Load with an office text without {name} = %v, want an error naming {name}", err)
	}
}
