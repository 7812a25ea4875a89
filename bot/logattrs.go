package bot

import (
	"context"
	"log/slog"
	"slices"

	"huimin/chat"
)

// withLazy returns log with attrs added when a record is logged, not now:
// slog's built-in handlers format With's attributes at once, which on
// every message costs more than the rare line they are for.
func withLazy(log *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	return slog.New(&lazyAttrs{inner: log.Handler(), attrs: attrs})
}

// lazyAttrs is a handler that keeps its With attributes until Handle.
type lazyAttrs struct {
	inner slog.Handler
	attrs []slog.Attr
}

func (h *lazyAttrs) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *lazyAttrs) Handle(ctx context.Context, r slog.Record) error {
	return h.inner.WithAttrs(h.attrs).Handle(ctx, r)
}

func (h *lazyAttrs) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &lazyAttrs{inner: h.inner, attrs: append(slices.Clip(h.attrs), attrs...)}
}

func (h *lazyAttrs) WithGroup(name string) slog.Handler {
	return h.inner.WithAttrs(h.attrs).WithGroup(name)
}

// maxIdent is the longest identifier a log line carries: an openid is 28
// characters, a WeCom user ID at most 64; anything longer came from a
// forged request and is cut, so that a sender cannot flood the logs.
const maxIdent = 64

// ident caps an identifier taken from a request for a log line.
func ident(s string) string {
	return chat.Cut(s, maxIdent)
}
