package main

import (
	"testing"

	"huimin/flows/intake"
)

// TestQuestionsAreAnsweredByTheKnowledgeBase: the question load is what
// its name says only if the built-in knowledge base answers every one of
// its texts outright (not with a menu, a flow or "which did you mean").
func TestQuestionsAreAnsweredByTheKnowledgeBase(t *testing.T) {
	set, err := intake.Load(intake.Defaults(), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range questionTexts {
		r := set.Step(intake.State{}, intake.Input{Text: q})
		if r.Outcome == nil || r.Outcome.Kind != intake.OutcomeAnswer {
			t.Errorf("%q: outcome %+v, prompts %+v; want a knowledge-base answer", q, r.Outcome, r.Prompts)
		}
	}
}

// TestTextsTurnPerOpenID: a conversation starts at its first text for every
// openid; consecutive openids ask different questions.
func TestTextsTurnPerOpenID(t *testing.T) {
	conv := &generator{texts: textSets["conversation"]}
	for k := range 3 {
		for turn, want := range conversationTexts {
			if got := conv.text(k, turn); got != want {
				t.Errorf("conversation: openid %d turn %d says %q, want %q", k, turn, got, want)
			}
		}
	}
	q := &generator{texts: textSets["question"]}
	if q.text(0, 0) == q.text(1, 0) || q.text(0, 0) == q.text(0, 1) {
		t.Errorf("questions repeat: %q %q %q", q.text(0, 0), q.text(1, 0), q.text(0, 1))
	}
}
