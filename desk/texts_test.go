package desk

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"huimin/chat/texts"
)

// TestEveryTextTheDeskSaysExists checks that each text key the desk and the
// engine name, literally or by a record's kind, is in the YAML texts: a
// missing one would reach a person as "[key]".
func TestEveryTextTheDeskSaysExists(t *testing.T) {
	citizen, officer := texts.MustLoad(texts.Citizen), texts.MustLoad(texts.Officer)
	files, _ := filepath.Glob("*.go")
	files = append(files, "../flows/engine.go")
	say := regexp.MustCompile(`(citizen|officer|citizenTexts|officerTexts)\.Say\("([a-z_]+)",`)
	reason := regexp.MustCompile(`refusal\([^,]*, Err[A-Za-z]+, "([a-z_]+)"`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range say.FindAllStringSubmatch(string(src), -1) {
			book := officer
			if m[1] == "citizen" || m[1] == "citizenTexts" {
				book = citizen
			}
			if !book.Has(m[2]) {
				t.Errorf("%s: text %q (%s) is not in the YAML texts", f, m[2], m[1])
			}
		}
		for _, m := range reason.FindAllStringSubmatch(string(src), -1) {
			if m[1] != "state" && !officer.Has("refuse_"+m[1]) {
				t.Errorf("%s: refusal %q has no refuse_%s text", f, m[1], m[1])
			}
		}
	}
	for _, kind := range eventOf {
		if !officer.Has("history_" + string(kind)) {
			t.Errorf("history kind %s has no history_%s text", kind, kind)
		}
	}
	for _, s := range allStates {
		if !citizen.Has("state_" + string(s)) {
			t.Errorf("state %s has no state_%s text", s, s)
		}
	}
	for _, done := range []string{"accepted", "replied", "asked_more", "transferred", "transferred_out", "extension_requested",
		"extension_approved", "extension_refused", "resolved", "reopened_ok", "closed"} {
		if !officer.Has("done_" + done) {
			t.Errorf("command answer done_%s is missing", done)
		}
	}
}
