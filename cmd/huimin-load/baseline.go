package main

import (
	"context"
	"crypto/subtle"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
)

// maxBody caps a webhook body. WeChat's messages are a few hundred bytes; the
// largest, safe-mode event pushes, stay well under this.
const maxBody = 64 << 10

// baseline is the least work a WeChat webhook can do and still be correct:
// verify, decrypt, parse, answer "success". It is what the service is measured
// against, so it must do nothing the service could skip.
type baseline struct {
	acct  account
	redis *roundTrip // nil: answer without a store
}

// newBaseline returns the minimal webhook mux: POST /wechat and GET /readyz.
// With rt, every message also makes rt's one Redis round trip before its
// answer: the least a service with a store can do.
func newBaseline(acct account, rt *roundTrip) http.Handler {
	b := &baseline{acct: acct, redis: rt}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /wechat", b.receive)
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "ok")
	})
	return mux
}

// receive handles one pushed message. The protocol has the signature in the
// query: signature = sha1(sort(token, timestamp, nonce)) in plain mode, and
// msg_signature = sha1(sort(token, timestamp, nonce, Encrypt)) in safe mode.
//
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
func (b *baseline) receive(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	q := r.URL.Query()
	timestamp, nonce := q.Get("timestamp"), q.Get("nonce")

	raw := body
	if q.Get("encrypt_type") == "aes" {
		if !b.acct.safe() {
			http.Error(w, "safe mode is not configured", http.StatusBadRequest)
			return
		}
		var env message.EncryptedXMLMsg
		if err := xml.Unmarshal(body, &env); err != nil {
			http.Error(w, "bad xml", http.StatusBadRequest)
			return
		}
		if !sameSignature(q.Get("msg_signature"), util.Signature(b.acct.token, timestamp, nonce, env.EncryptedMsg)) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		_, plain, err := util.DecryptMsg(b.acct.appID, env.EncryptedMsg, b.acct.aesKey)
		if err != nil {
			http.Error(w, "bad ciphertext", http.StatusBadRequest)
			return
		}
		raw = plain
	} else if !sameSignature(q.Get("signature"), util.Signature(b.acct.token, timestamp, nonce)) {
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}

	var msg message.MixMessage
	if err := xml.Unmarshal(raw, &msg); err != nil {
		http.Error(w, "bad xml", http.StatusBadRequest)
		return
	}
	if b.redis != nil {
		if err := b.redis.do(r.Context(), &msg); err != nil {
			http.Error(w, "store unavailable", http.StatusServiceUnavailable)
			return
		}
	}
	_, _ = io.WriteString(w, "success")
}

// sameSignature compares in constant time because the signature is
// attacker-controlled.
func sameSignature(got, want string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// runBaseline is the baseline subcommand: it serves newBaseline on -addr until
// ctx is cancelled, then shuts down gracefully.
func runBaseline(ctx context.Context, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("huimin-load baseline", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:18081", "listen address")
	var acct account
	fs.StringVar(&acct.token, "token", "", "WeChat server token (required)")
	fs.StringVar(&acct.aesKey, "aes-key", "", "EncodingAESKey, 43 characters; enables safe mode")
	fs.StringVar(&acct.appID, "app-id", "", "AppID sealed into safe-mode messages")
	redisAddr := fs.String("redis", "", "Redis address; when set, every message makes one pipelined round trip to it (bare+redis)")
	redisPrefix := fs.String("redis-prefix", "huiminload:", "prefix of the keys -redis writes")
	redisPool := fs.Int("redis-pool", 256, "Redis connections at most (size it to the load's concurrency)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if err := acct.validate(); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	var rt *roundTrip
	if *redisAddr != "" {
		rt = newRoundTrip(*redisAddr, *redisPrefix, *redisPool)
		defer rt.close()
		if err := rt.ping(ctx); err != nil {
			return err
		}
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{
		Handler:           newBaseline(acct, rt),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("baseline listening", "addr", ln.Addr().String(), "mode", acct.mode(), "redis", *redisAddr)

	select {
	case err := <-serveErr:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shut down: %w", err)
	}
	log.Info("baseline stopped")
	return nil
}
