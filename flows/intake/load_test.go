package intake

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// goodFlow is a small valid flow for override tests.
const goodFlow = `id: extra
title: 测试事项
line: relief
inquiry: help
steps:
  - id: detail
    type: text
    ask: 请说说情况。
    field: detail
    label: 情况
  - id: phone
    type: phone
    ask: 请留手机号。
    field: phone
    label: 电话
outcome: {kind: ticket}
`

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		file  string
		body  string
		want  string // file:line: reason, after the directory
		want2 string // a second problem reported in the same load, if any
	}{
		{
			name: "unknown step type",
			file: "bad.yaml",
			body: "id: bad\ntitle: 坏\nline: relief\ninquiry: help\nsteps:\n  - id: a\n    type: essay\n    ask: 说吧\n    field: a\n    label: 甲\noutcome: {kind: ticket}\n",
			want: `bad.yaml:7: step "a": unknown type "essay"`,
		},
		{
			name: "duplicate step id",
			file: "bad.yaml",
			body: "id: bad\ntitle: 坏\nline: relief\ninquiry: help\nsteps:\n  - {id: a, type: text, ask: 说, field: a, label: 甲}\n  - {id: a, type: text, ask: 说, field: b, label: 乙}\noutcome: {kind: ticket}\n",
			want: `bad.yaml:7: duplicate step id "a" (first at line 6)`,
		},
		{
			name: "next pointing nowhere",
			file: "bad.yaml",
			body: "id: bad\ntitle: 坏\nline: relief\ninquiry: help\nsteps:\n  - id: a\n    type: text\n    ask: 说\n    field: a\n    label: 甲\n    next: nowhere\noutcome: {kind: ticket}\n",
			want: `bad.yaml:11: next "nowhere" points nowhere`,
		},
		{
			name: "option next pointing nowhere",
			file: "bad.yaml",
			body: "id: bad\ntitle: 坏\nline: relief\ninquiry: help\nsteps:\n  - id: a\n    type: choice\n    ask: 选\n    field: a\n    label: 甲\n    options:\n      - {label: 一}\n      - {label: 二, next: lost}\noutcome: {kind: ticket}\n",
			want: `bad.yaml:13: next "lost" points nowhere`,
		},
		{
			name: "choice without options",
			file: "bad.yaml",
			body: "id: bad\ntitle: 坏\nline: relief\ninquiry: help\nsteps:\n  - id: a\n    type: choice\n    ask: 选\n    field: a\n    label: 甲\noutcome: {kind: ticket}\n",
			want: `bad.yaml:6: step "a": a choice needs options`,
		},
		{
			name: "ten options",
			file: "bad.yaml",
			body: "id: bad\ntitle: 坏\nline: relief\ninquiry: help\nsteps:\n  - id: a\n    type: choice\n    ask: 选\n    field: a\n    label: 甲\n    options: [{label: a}, {label: b}, {label: c}, {label: d}, {label: e}, {label: f}, {label: g}, {label: h}, {label: i}, {label: j}]\noutcome: {kind: ticket}\n",
			want: `bad.yaml:11: step "a": at most 9 options`,
		},
		{
			name: "unknown key",
			file: "bad.yaml",
			body: "id: bad\ntitle: 坏\nline: relief\ninquiry: help\nsteps:\n  - id: a\n    type: text\n    ask: 说\n    field: a\n    label: 甲\n    maxlen: 3\noutcome: {kind: ticket}\n",
			want: `bad.yaml:11: unknown key "maxlen"`,
		},
		{
			name:  "loop without exit",
			file:  "bad.yaml",
			body:  "id: bad\ntitle: 坏\nline: relief\ninquiry: help\nsteps:\n  - {id: a, type: text, ask: 说, field: a, label: 甲}\n  - {id: b, type: text, ask: 说, field: b, label: 乙, next: a}\noutcome: {kind: ticket}\n",
			want:  `bad.yaml:6: step "a" can never reach the end`,
			want2: `bad.yaml:7: step "b" can never reach the end`,
		},
		{
			name: "yaml syntax",
			file: "bad.yaml",
			body: "id: bad\ntitle: 坏\n  line: relief\n",
			want: `bad.yaml:3: mapping values are not allowed in this context`,
		},
		{
			name:  "missing outcome and line",
			file:  "bad.yaml",
			body:  "id: bad\ntitle: 坏\ninquiry: help\nsteps:\n  - {id: a, type: text, ask: 说, field: a, label: 甲}\n",
			want:  `bad.yaml:1: missing outcome`,
			want2: `bad.yaml:1: missing line`,
		},
		{
			name: "inquiry value",
			file: "bad.yaml",
			body: "id: bad\ntitle: 坏\nline: relief\nsteps:\n  - id: inquiry\n    type: choice\n    ask: 选\n    field: inquiry\n    label: 类型\n    options:\n      - {label: 咨询, value: consult}\n      - {label: 闲聊, value: chat}\noutcome: {kind: ticket}\n",
			want: `bad.yaml:12: step "inquiry": inquiry value "chat"`,
		},
		{
			name: "ticket without inquiry",
			file: "bad.yaml",
			body: "id: bad\ntitle: 坏\nline: relief\nsteps:\n  - {id: a, type: text, ask: 说, field: a, label: 甲}\noutcome: {kind: ticket}\n",
			want: `bad.yaml:1: a flow that opens tickets needs an inquiry type`,
		},
		{
			name:  "field on a confirm, no label on a text",
			file:  "bad.yaml",
			body:  "id: bad\ntitle: 坏\nline: relief\ninquiry: help\nsteps:\n  - {id: a, type: text, ask: 说, field: a}\n  - {id: c, type: confirm, field: c}\noutcome: {kind: ticket}\n",
			want:  `bad.yaml:6: step "a": missing label`,
			want2: `bad.yaml:7: step "c": a confirm step saves no field`,
		},
		{
			name: "max over the cap",
			file: "bad.yaml",
			body: "id: bad\ntitle: 坏\nline: relief\ninquiry: help\nsteps:\n  - id: a\n    type: text\n    ask: 说\n    field: a\n    label: 甲\n    max: 5000\noutcome: {kind: ticket}\n",
			want: `bad.yaml:11: step "a": want 0 <= min <= max <= 2000`,
		},
		{
			name: "answer ending without text",
			file: "bad.yaml",
			body: "id: bad\ntitle: 坏\nline: relief\ninquiry: help\nsteps:\n  - {id: a, type: text, ask: 说, field: a, label: 甲, next: info}\noutcome: {kind: ticket}\nendings:\n  info: {kind: answer}\n",
			want: `bad.yaml:9: ending info: an answer needs its text`,
		},
		{
			name: "duplicate flow id",
			file: "again.yaml",
			body: strings.Replace(goodFlow, "id: extra", "id: relief", 1),
			want: `again.yaml:1: flow id "relief" is already defined in defaults/relief.yaml`,
		},
		{
			name: "menu pointing to an unknown flow",
			file: "menu.yaml",
			body: "greeting: 您好\nhead: 请选择\nitems:\n  - {label: 低保, flow: relief}\n  - {label: 失踪, flow: missing}\ncommands: {back: [返回], cancel: [取消], human: [人工], help: [帮助], status: [进度], menu: [菜单]}\n",
			want: `menu.yaml:5: menu item 2: unknown flow "missing"`,
		},
		{
			name: "button name too long",
			file: "menu.yaml",
			body: "greeting: 您好\nhead: 请选择\nitems:\n  - {label: 低保, flow: relief}\nbuttons:\n  - {name: 低保特困临时救助, flow: relief}\ncommands: {back: [返回], cancel: [取消], human: [人工], help: [帮助], status: [进度], menu: [菜单]}\n",
			want: `menu.yaml:6: button "低保特困临时救助": a name has at most 16 bytes`,
		},
		{
			name:  "command word twice",
			file:  "menu.yaml",
			body:  "greeting: 您好\nhead: 请选择\nitems:\n  - {label: 低保, flow: relief}\ncommands:\n  back: [返回]\n  cancel: [取消, 返回]\n  human: [人工]\n  help: [帮助]\n  status: [进度]\n  menu: [菜单, \"1\"]\n",
			want:  `menu.yaml:7: commands: "返回" is both back and cancel`,
			want2: `menu.yaml:11: commands: menu: "1" would hide the option of that number`,
		},
		{
			name:  "knowledge-base entry without keywords",
			file:  "kb-extra.yaml",
			body:  "entries:\n  - id: q1\n    question: 问？\n    answer: 答。\n  - id: q2\n    question: 问？\n    answer: 答。\n    keywords: [低保+]\n",
			want:  `kb-extra.yaml:2: knowledge-base entry "q1": missing keywords`,
			want2: `kb-extra.yaml:8: knowledge-base entry "q2": empty keyword in "低保+"`,
		},
		{
			name: "knowledge-base id used twice",
			file: "kb-extra.yaml",
			body: "entries:\n  - id: dibao-apply\n    question: 问？\n    answer: 答。\n    keywords: [问]\n",
			want: `kb-extra.yaml:2: knowledge-base id "dibao-apply" is already used in defaults/kb.yaml`,
		},
		{
			name: "texts missing",
			file: "texts.yaml",
			body: "help: 说明\n",
			want: `texts.yaml:1: missing text "step_tail"`,
		},
		{
			name: "yml extension",
			file: "extra.yml",
			body: goodFlow,
			want: `extra.yml: name definition files *.yaml`,
		},
		{
			name: "empty file",
			file: "empty.yaml",
			body: "# nothing yet\n",
			want: `empty.yaml:1: the file is empty`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{tt.file: tt.body})
			s, err := Load(Defaults(), dir)
			if err == nil {
				t.Fatalf("Load() = %v, nil, want an error", s)
			}
			if _, ok := errors.AsType[*LoadError](err); !ok {
				t.Errorf("Load() error %v is no *LoadError", err)
			}
			got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), "")
			for _, want := range []string{tt.want, tt.want2} {
				if !strings.Contains(got, want) {
					t.Errorf("Load() error =\n%s\nwant it to contain\n%s", got, want)
				}
			}
		})
	}
}

func TestLoadOverride(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"extra.yaml":    goodFlow,
		"kb-extra.yaml": "entries:\n  - id: parking\n    line: community\n    question: 小区停车难怎么办？\n    keywords: [停车]\n    answer: 请联系社区居委会反映。\n",
		"veterans.yaml": strings.NewReplacer("id: extra", "id: veterans", "line: relief", "line: veterans").Replace(goodFlow),
		"notes.txt":     "not a definition",
	})
	s, err := Load(Defaults(), dir)
	if err != nil {
		t.Fatalf("Load() = %v", err)
	}
	if _, err := s.Start("extra"); err != nil {
		t.Errorf("Start(extra) = %v, want the added flow", err)
	}
	r, _ := s.Start("veterans")
	if r = direct(t, s, r); r.State.Step != "detail" {
		t.Errorf("veterans starts at %q, want the overriding file's first step", r.State.Step)
	}
	if r := s.Idle(text("停车太难了")); r.State.Data[dataAnswer] != "kb:parking" {
		t.Errorf("added knowledge-base entry not found: %+v", r.State)
	}
	if r := s.Idle(text("高龄津贴怎么领")); r.State.Data[dataAnswer] != "kb:elderly-allowance" {
		t.Errorf("default knowledge base lost: %+v", r.State)
	}
}

func TestLoadMissingDirectory(t *testing.T) {
	if _, err := Load(Defaults(), filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("Load(absent dir) = nil error, want one")
	}
}

// logBuffer is a goroutine-safe log sink.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestWatcherReload(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"extra.yaml": goodFlow})
	w, err := NewWatcher(Defaults(), dir, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatalf("NewWatcher() = %v", err)
	}
	good := w.Current()
	if _, err := good.Start("extra"); err != nil {
		t.Fatalf("Start(extra) = %v", err)
	}

	writeFiles(t, dir, map[string]string{"extra.yaml": strings.Replace(goodFlow, "type: phone", "type: telephone", 1)})
	err = w.Reload()
	if err == nil || !strings.Contains(err.Error(), "extra.yaml:12:") {
		t.Errorf("Reload(bad) = %v, want the file and line", err)
	}
	if w.Current() != good {
		t.Error("a bad reload replaced the current set")
	}

	writeFiles(t, dir, map[string]string{"extra.yaml": strings.Replace(goodFlow, "请说说情况。", "请简单说说情况。", 1)})
	if err := w.Reload(); err != nil {
		t.Fatalf("Reload(good) = %v", err)
	}
	if w.Current() == good {
		t.Error("a good reload kept the old set")
	}
	r, _ := w.Current().Start("extra") // a flow of the relief line: its guides are offered first
	if r = direct(t, w.Current(), r); !strings.Contains(said(r), "请简单说说情况") {
		t.Errorf("after reload said %q, want the new question", said(r))
	}
}

func TestNewWatcherFailsOnBadFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"extra.yaml": "id: [\n"})
	if _, err := NewWatcher(Defaults(), dir, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "extra.yaml:") {
		t.Errorf("NewWatcher(bad) = %v, want the file named", err)
	}
}

func TestWatcherRun(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"extra.yaml": goodFlow})
	var logs logBuffer
	w, err := NewWatcher(Defaults(), dir, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatalf("NewWatcher() = %v", err)
	}
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			w.Run(ctx, time.Second)
			close(done)
		}()
		first := w.Current()

		writeFiles(t, dir, map[string]string{"extra.yaml": goodFlow + "\n# broken below\nsteps: oops\n"})
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if w.Current() != first || !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "extra.yaml:") {
			t.Errorf("after a bad change: set replaced %v, log %q; want kept and a warning naming the file", w.Current() != first, logs.String())
		}

		writeFiles(t, dir, map[string]string{"extra.yaml": strings.Replace(goodFlow, "测试事项", "测试事项二", 1)})
		time.Sleep(time.Second)
		synctest.Wait()
		if w.Current() == first || !strings.Contains(logs.String(), "flows reloaded") {
			t.Errorf("after a good change: set replaced %v, log %q; want the new set", w.Current() != first, logs.String())
		}

		cancel()
		<-done
	})
}
