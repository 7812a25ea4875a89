package intake

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"
)

// TestDefaultsStateNoLocalFigures checks the built-in flows and answers
// against the domain rules: no amount, percentage or age that national
// rules do not fix (local figures come from the bureau's configuration),
// and no answer that sends a citizen to an office it does not name.
func TestDefaultsStateNoLocalFigures(t *testing.T) {
	figure := regexp.MustCompile(`[0-9０-９一二三四五六七八九十百千万]+\s*(元|块钱|%|％|岁|周岁)|百分之`)
	// National wording that may stand: 《社会救助暂行办法》 on 特困人员.
	allowed := []string{"未满16周岁"}
	vague := []string{"请咨询街道", "请咨询区", "请咨询社区", "民政办。"}
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
			if m := figure.FindString(clean); m != "" {
				t.Errorf("%s:%d states %q: local figures come from configuration", path, i+1, m)
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

// TestTekunWording checks the legal wording of 特困人员 (《社会救助暂行办法》).
func TestTekunWording(t *testing.T) {
	got := said(defaultSet(t).Idle(text("特困供养什么条件")))
	if !strings.Contains(got, "未满16周岁的未成年人") {
		t.Errorf("特困 answer %q lacks 未满16周岁的未成年人", got)
	}
}
