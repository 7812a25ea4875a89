package desk

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"

	"huimin/chat"
	"huimin/store"
)

// Guessing binding codes: a six-digit code lives up to a day, so a sender
// trying codes one after another could find one. After maxSenderFailures
// wrong codes a sender is refused for senderBlock, the right code included;
// after maxTotalFailures wrong codes in all within a code's life, every code
// in play is spent (issued again by `huimin officer add`); the chiefs are
// told of both.
const (
	maxSenderFailures = 5
	senderBlock       = time.Hour
	maxTotalFailures  = 20
	totalWindow       = 24 * time.Hour
)

// IssueCode creates a one-time code with which an officer binds a chat
// account (valid for ttl).
func (d *Desk) IssueCode(ctx context.Context, officerID string, ttl time.Duration) (string, error) {
	if _, ok := d.dir.officers[officerID]; !ok {
		return "", fmt.Errorf("issue code: unknown officer %q", officerID)
	}
	gen, err := d.codeGeneration(ctx)
	if err != nil {
		return "", fmt.Errorf("issue code: %w", err)
	}
	for range 5 {
		n, err := rand.Int(rand.Reader, big.NewInt(900000))
		if err != nil {
			return "", fmt.Errorf("issue code: %w", err)
		}
		code := fmt.Sprint(100000 + n.Int64())
		err = d.st.PutBindCode(ctx, code, officerID+"#"+gen, ttl)
		if errors.Is(err, store.ErrExists) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("issue code: %w", err)
		}
		return code, nil
	}
	return "", errors.New("issue code: no free code")
}

// codeGeneration is the generation of the codes in play; spending them all
// moves it on, and a code of an older generation binds nobody.
func (d *Desk) codeGeneration(ctx context.Context) (string, error) {
	gen, err := d.st.GetCache(ctx, "bind_generation")
	if errors.Is(err, store.ErrNotFound) {
		return "0", nil
	}
	return gen, err
}

// Bind binds the chat account userID on channel to the officer whose code
// it is, unless the sender or everyone has guessed too often.
func (d *Desk) Bind(ctx context.Context, channel chat.Channel, userID, code string) (string, error) {
	sender := string(bindingKey(channel, userID))
	if _, err := d.st.GetCache(ctx, "bind_blocked:"+sender); err == nil {
		return d.officer.Say("bind_blocked", nil), nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("check bind block: %w", err)
	}
	value, err := d.st.TakeBindCode(ctx, strings.TrimSpace(code))
	if errors.Is(err, store.ErrNotFound) {
		return d.wrongCode(ctx, sender)
	}
	if err != nil {
		return "", fmt.Errorf("take bind code: %w", err)
	}
	officerID, gen, _ := strings.Cut(value, "#")
	current, err := d.codeGeneration(ctx)
	if err != nil {
		return "", fmt.Errorf("bind: %w", err)
	}
	if gen != current && gen != "" {
		return d.wrongCode(ctx, sender) // spent after too many guesses
	}
	if err := d.st.BindOfficer(ctx, bindingKey(channel, userID), officerID); err != nil {
		return "", fmt.Errorf("bind officer: %w", err)
	}
	o := d.dir.officers[officerID]
	d.log.InfoContext(ctx, "officer bound", "officer_id", officerID, "channel", channel)
	return d.officer.Say("bound", map[string]any{"Name": o.Name, "Dept": d.dir.depts[o.Department].Name}), nil
}

// wrongCode counts a wrong code against the sender and against all codes,
// blocks the sender or spends every code when a limit is reached, and
// tells the chiefs.
func (d *Desk) wrongCode(ctx context.Context, sender string) (string, error) {
	n, err := d.st.NextSeq(ctx, "bind_failures:"+sender, senderBlock)
	if err != nil {
		return "", fmt.Errorf("count bind failures: %w", err)
	}
	total, err := d.st.NextSeq(ctx, "bind_failures", totalWindow)
	if err != nil {
		return "", fmt.Errorf("count bind failures: %w", err)
	}
	d.log.WarnContext(ctx, "wrong binding code", "sender", chat.Cut(sender, 64), "sender_failures", n, "total_failures", total)
	if n == maxSenderFailures {
		if err := d.st.SetCache(ctx, "bind_blocked:"+sender, "1", senderBlock); err != nil {
			return "", fmt.Errorf("block binding: %w", err)
		}
		d.tellChiefs(ctx, "bind_guessing:"+sender+":"+strconv.FormatInt(d.now().Unix()/int64(senderBlock/time.Second), 10),
			d.officer.Say("bind_guessing", map[string]any{"N": n}))
	}
	if total == maxTotalFailures {
		gen, err := d.st.NextSeq(ctx, "bind_generation_seq", 0)
		if err != nil {
			return "", fmt.Errorf("spend binding codes: %w", err)
		}
		if err := d.st.SetCache(ctx, "bind_generation", strconv.FormatInt(gen, 10), 10*365*24*time.Hour); err != nil {
			return "", fmt.Errorf("spend binding codes: %w", err)
		}
		d.log.WarnContext(ctx, "binding codes spent after too many wrong codes", "total_failures", total)
		d.tellChiefs(ctx, "bind_spent:"+strconv.FormatInt(gen, 10), d.officer.Say("bind_spent", map[string]any{"N": total}))
	}
	if n >= maxSenderFailures {
		return d.officer.Say("bind_blocked", nil), nil
	}
	return d.officer.Say("bad_code", nil), nil
}

// tellChiefs sends a notice to every department chief and the leader once.
func (d *Desk) tellChiefs(ctx context.Context, id, text string) {
	told := map[string]bool{}
	for _, dp := range d.dir.sorted() {
		for _, c := range []string{dp.Supervisor, d.dir.leader} {
			if c == "" || told[c] {
				continue
			}
			told[c] = true
			if err := d.tellOfficer(ctx, c, id+":"+c, text, "escalation", nil); err != nil {
				d.log.ErrorContext(ctx, "tell chief failed", "officer_id", c, "err", err)
			}
		}
	}
}
