package bot

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"huimin/bot/wecom"
	"huimin/bot/wxapi"
)

// WeComWebhook serves GET and POST /wecom, the callback of the WeCom
// application that officers may use instead of the Official Account. WeCom
// has no passive reply worth waiting for, so every message is parked in
// the inbox (durably, before the answer) and handled by the inbox worker;
// the replies go out as WeCom application messages.
type WeComWebhook struct {
	codec *wecom.Codec
	wh    *Webhook
	log   *slog.Logger
}

// NewWeComWebhook returns the WeCom callback; it shares the webhook's
// de-duplication, inbox and dispatcher.
func NewWeComWebhook(codec *wecom.Codec, wh *Webhook, log *slog.Logger) *WeComWebhook {
	return &WeComWebhook{codec: codec, wh: wh, log: log.With("component", "wecom")}
}

// Register adds the routes to mux.
func (h *WeComWebhook) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /wecom", h.verify)
	mux.HandleFunc("POST /wecom", h.receive)
}

func (h *WeComWebhook) verify(w http.ResponseWriter, r *http.Request) {
	answerURLCheck(w, r, h.codec.VerifyURL, h.reject)
}

func (h *WeComWebhook) reject(w http.ResponseWriter, r *http.Request, err error) {
	refuse(w, r, err, h.wh.metrics, h.log, "wecom")
}

func (h *WeComWebhook) receive(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.wh.opts.MaxBody))
	if err != nil {
		h.reject(w, r, err)
		return
	}
	req, err := h.codec.Open(r.URL.Query(), body)
	if err != nil {
		h.reject(w, r, err)
		return
	}
	ev := req.Event()
	key := "wecom:" + wecom.DedupKey(req.Message)
	ctx := r.Context()
	log := withLazy(h.log, slog.String("user", ident(ev.From)), slog.String("key", ident(key)))
	// Bounded like the Official Account's webhook: a Redis that hangs
	// gets a 503 within the budget, and WeCom retries.
	d, first, err := h.wh.begin(ctx, start, key, req.ReplayKey())
	if errors.Is(err, wxapi.ErrStale) {
		h.reject(w, r, err)
		return
	}
	if err != nil {
		log.ErrorContext(ctx, "record delivery failed", "err", err)
		http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
		return
	}
	outcome := "duplicate"
	if first {
		if !h.wh.queue(ctx, log, ev, key) {
			// Not accepted: WeCom retries, and the retry must find the
			// delivery new, or it would be taken for a duplicate and lost.
			if err := h.wh.seen.ForgetDelivery(context.WithoutCancel(ctx), key); err != nil {
				log.ErrorContext(ctx, "forget refused delivery failed; WeCom's retry will be taken for a duplicate", "err", err)
			}
			http.Error(w, "temporarily unavailable", http.StatusServiceUnavailable)
			return
		}
		if err := h.wh.seen.FinishDelivery(ctx, d, h.wh.opts.DedupTTL); err != nil {
			log.ErrorContext(ctx, "finish delivery failed", "err", err)
		}
		outcome = "queued"
	} else {
		h.wh.metrics.duplicates.Inc()
	}
	w.WriteHeader(http.StatusOK)
	h.wh.metrics.messages.WithLabelValues("wecom_"+string(ev.Kind), outcome).Inc()
	h.wh.metrics.replySeconds.Observe(time.Since(start).Seconds())
}
