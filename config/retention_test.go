package config

import (
	"maps"
	"strings"
	"testing"
	"time"
)

func TestRetention(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    time.Duration
		wantErr string // a part of the error; "" for none
	}{
		{"default three years", nil, 26280 * time.Hour, ""},
		{"set", map[string]string{"HUIMIN_DESK_RETENTION": "43800h"}, 43800 * time.Hour, ""},
		{"a day", map[string]string{"HUIMIN_DESK_RETENTION": "24h"}, 24 * time.Hour, ""},
		{"zero", map[string]string{"HUIMIN_DESK_RETENTION": "0s"}, 0, "desk.retention: must be at least 24h"},
		{"negative", map[string]string{"HUIMIN_DESK_RETENTION": "-26280h"}, 0, "desk.retention: must be at least 24h"},
		{"a unit slip", map[string]string{"HUIMIN_DESK_RETENTION": "3h"}, 0, "desk.retention: must be at least 24h"},
		{"not a duration", map[string]string{"HUIMIN_DESK_RETENTION": "three years"}, 0, "retention"},
		{"no sweep schedule", map[string]string{"HUIMIN_DESK_RETENTION_SWEEP": " "}, 0, "desk.retention_sweep: must be a cron schedule"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := maps.Clone(minimal)
			maps.Copy(e, tt.env)
			c, err := Load("", env(e))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Load() error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if c.Desk.Retention != tt.want || c.Desk.RetentionSweep != "@daily" {
				t.Errorf("retention = %v, sweep %q; want %v, @daily", c.Desk.Retention, c.Desk.RetentionSweep, tt.want)
			}
		})
	}
}

func TestRetentionInExample(t *testing.T) {
	c, err := Load("huimin.example.yaml", env(minimal))
	if err != nil {
		t.Fatalf("Load(example): %v", err)
	}
	if c.Desk.Retention != 26280*time.Hour || c.Desk.RetentionSweep != "@daily" {
		t.Errorf("example retention = %v, sweep %q; want 26280h, @daily", c.Desk.Retention, c.Desk.RetentionSweep)
	}
}
