package bot

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"testing"
)

func TestWithLazy(t *testing.T) {
	var buf bytes.Buffer
	base := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})).With("component", "webhook")
	log := withLazy(base, slog.String("openid", "o1"), slog.Int("attempt", 2))
	log.Debug("hidden")
	log.With("more", "x").WithGroup("g").Info("shown", "err", "boom")
	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("one JSON line expected, got %q: %v", buf.String(), err)
	}
	want := map[string]any{"component": "webhook", "openid": "o1", "attempt": 2.0, "more": "x", "msg": "shown"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %v, want %v (line %s)", k, got[k], v, buf.String())
		}
	}
	if g, _ := got["g"].(map[string]any); g["err"] != "boom" {
		t.Errorf("group g = %v, want err=boom inside", got["g"])
	}
}
