package texts

import (
	"strings"
	"testing"
)

func TestBuiltInTextsParseAndRender(t *testing.T) {
	for _, a := range []Audience{Citizen, Officer} {
		b, err := Load(a)
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if len(b.Keys()) == 0 {
			t.Fatalf("%s: no texts", a)
		}
		for _, k := range b.Keys() {
			if _, err := b.Render(k, map[string]any{"ID": "MZ20261130-0001"}); err != nil {
				t.Errorf("%s: %v", a, err)
			}
		}
	}
}

func TestSayMissingKeyShowsTheKey(t *testing.T) {
	b, err := Parse(Citizen, []byte("hello: \"您好，{{.Name}}\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	if got := b.Say("hello", map[string]any{"Name": "王阿姨"}); got != "您好，王阿姨" {
		t.Errorf("Say = %q", got)
	}
	if got := b.Say("missing", nil); got != "[missing]" {
		t.Errorf("Say(missing) = %q, want [missing]", got)
	}
	if _, err := Parse(Citizen, []byte("bad: \"{{.X\"\n")); err == nil || !strings.Contains(err.Error(), "bad") {
		t.Errorf("a broken template parsed: %v", err)
	}
}

// TestStaticTextsAsTheTemplateSaysThem holds the texts said without a
// template run (those without a field) to what the template would say.
func TestStaticTextsAsTheTemplateSaysThem(t *testing.T) {
	for _, a := range []Audience{Citizen, Officer} {
		b := MustLoad(a)
		if len(b.static) == 0 {
			t.Fatalf("%s: no static texts; the level names, for one, have no field", a)
		}
		for k, s := range b.static {
			var buf strings.Builder
			if err := b.texts[k].Execute(&buf, nil); err != nil {
				t.Fatalf("%s: %s: %v", a, k, err)
			}
			if buf.String() != s {
				t.Errorf("%s: %s said %q, its template %q", a, k, s, buf.String())
			}
		}
	}
}
