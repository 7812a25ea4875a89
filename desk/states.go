package desk

import (
	"slices"

	"huimin/store"
)

// Op names one operation on a ticket. Every change of a ticket is one Op,
// checked against the transition table and recorded as one history event.
type Op string

// The operations.
const (
	OpOpen             Op = "open"              // the citizen's matter is received
	OpAssign           Op = "assign"            // routing gives it an owner
	OpAccept           Op = "accept"            // an officer takes it (接单)
	OpReply            Op = "reply"             // the officer writes to the citizen (回复)
	OpAskMore          Op = "ask_more"          // the officer asks for more (补充)
	OpCitizenReply     Op = "citizen_reply"     // the citizen answers
	OpHandover         Op = "handover"          // the citizen asks for a person (人工)
	OpTransfer         Op = "transfer"          // to another department or officer (转办)
	OpTransferOut      Op = "transfer_out"      // to an outside agency (转外单位)
	OpRequestExtension Op = "request_extension" // 延期 asked
	OpApproveExtension Op = "approve_extension" // 延期 approved by a chief
	OpRefuseExtension  Op = "refuse_extension"  // 延期 refused by a chief
	OpResolve          Op = "resolve"           // 办结
	OpReopen           Op = "reopen"            // 整改 after a bad review
	OpClose            Op = "close"             // 归档
	OpRemind           Op = "remind"            // a timer reminds the owner
	OpEscalate         Op = "escalate"          // a timer tells the chief or the leader
	OpUrgentAlert      Op = "urgent_alert"      // an urgent matter is told to the chief
	OpRevealPhone      Op = "reveal_phone"      // the citizen's number shown in full (recorded)
	OpRevealID         Op = "reveal_id"         // the citizen's ID number shown in full (recorded)
	OpUndeliverable    Op = "undeliverable"     // nobody reachable could be told
	OpNotDelivered     Op = "not_delivered"     // a notice WeChat would not deliver went to the chief
	OpVisit            Op = "visit"             // the return visit (回访) is sent
	OpVisitChannel     Op = "visit_channel"     // how it reached the citizen (or: a phone task)
	OpVisitRemind      Op = "visit_remind"      // its one reminder
	OpVisitExpire      Op = "visit_expire"      // unanswered in time: 未评价 (or the no-answer level)
	OpRate             Op = "rate"              // the citizen's rating (好差评)
	OpSurveyComment    Op = "survey_comment"    // the citizen's words after rating
	OpRectify          Op = "rectify"           // the named person records the 整改 outcome
	OpNameRectifier    Op = "name_rectifier"    // a chief names another person for the 整改
	OpAppeal           Op = "appeal"            // 申诉复核 asked, to exclude a rating
	OpApproveAppeal    Op = "approve_appeal"    // the rating is excluded from the statistics
	OpRefuseAppeal     Op = "refuse_appeal"     // the rating stands
	OpPraise           Op = "praise"            // praise (表扬) is recorded and filed at once
	OpErase            Op = "erase"             // personal data erased after the retention period
)

// transition is what an operation may start from and where it leads; an
// empty To keeps the state.
type transition struct {
	From []store.TicketState
	To   store.TicketState
}

// working are the states in which an accepted ticket is being worked.
var working = []store.TicketState{store.StateInProgress, store.StateWaiting, store.StateReopened}

// open are the states of a ticket that still needs work.
var open = []store.TicketState{store.StateReceived, store.StateAssigned, store.StateInProgress, store.StateWaiting, store.StateReopened}

// finished are the states after the work: what may still be looked at.
var finished = []store.TicketState{store.StateResolved, store.StateClosed, store.StateTransferredOut}

// resolved is the state a return visit runs in; rated are the states a
// rating can be appealed or commented on in.
var (
	resolved = []store.TicketState{store.StateResolved}
	rated    = []store.TicketState{store.StateResolved, store.StateClosed, store.StateReopened}
)

// Transitions is the one table of ticket states: which operation may run in
// which state, and the state it leaves. Every operation goes through it.
var Transitions = map[Op]transition{
	OpOpen:             {From: nil, To: store.StateReceived},
	OpAssign:           {From: []store.TicketState{store.StateReceived}, To: store.StateAssigned},
	OpAccept:           {From: []store.TicketState{store.StateReceived, store.StateAssigned}, To: store.StateInProgress},
	OpReply:            {From: working},
	OpAskMore:          {From: working, To: store.StateWaiting},
	OpCitizenReply:     {From: slices.Concat(open, finished)}, // the state is kept; see citizenReplyState
	OpHandover:         {From: slices.Concat(open, finished)},
	OpTransfer:         {From: open, To: store.StateReceived}, // then OpAssign routes it
	OpTransferOut:      {From: open, To: store.StateTransferredOut},
	OpRequestExtension: {From: working},
	OpApproveExtension: {From: open},
	OpRefuseExtension:  {From: open},
	OpResolve:          {From: working, To: store.StateResolved},
	OpReopen:           {From: []store.TicketState{store.StateResolved}, To: store.StateReopened},
	OpClose:            {From: []store.TicketState{store.StateResolved}, To: store.StateClosed},
	OpRemind:           {From: open},
	OpEscalate:         {From: open},
	OpUrgentAlert:      {From: open},
	OpRevealPhone:      {From: slices.Concat(open, finished)},
	OpRevealID:         {From: slices.Concat(open, finished)},
	OpUndeliverable:    {From: open},
	OpNotDelivered:     {From: slices.Concat(open, finished)},
	OpVisit:            {From: resolved},
	OpVisitChannel:     {From: rated}, // recorded also after a quick answer
	OpVisitRemind:      {From: resolved},
	OpVisitExpire:      {From: resolved}, // then OpClose
	OpRate:             {From: resolved}, // then OpClose, or OpReopen for a 差评
	OpSurveyComment:    {From: rated},
	OpRectify:          {From: []store.TicketState{store.StateReopened}}, // fixed or explained: then OpResolve
	OpNameRectifier:    {From: []store.TicketState{store.StateReopened}},
	OpAppeal:           {From: rated},
	OpApproveAppeal:    {From: rated},
	OpRefuseAppeal:     {From: rated},
	OpPraise:           {From: nil, To: store.StateClosed},
	OpErase:            {From: finished}, // see retention.go
}

// allowed reports whether op may run on a ticket in state s.
func allowed(op Op, s store.TicketState) bool {
	tr, ok := Transitions[op]
	return ok && slices.Contains(tr.From, s)
}

// next is the state op leaves a ticket in.
func next(op Op, s store.TicketState) store.TicketState {
	if op == OpCitizenReply && s == store.StateWaiting {
		return store.StateInProgress // the citizen sent what was asked for
	}
	if to := Transitions[op].To; to != "" {
		return to
	}
	return s
}

// History event kinds, one per operation.
const (
	EventCreated            store.EventKind = "created"
	EventAssigned           store.EventKind = "assigned"
	EventAccepted           store.EventKind = "accepted"
	EventReplied            store.EventKind = "replied"
	EventAskedMore          store.EventKind = "asked_more"
	EventCitizenReplied     store.EventKind = "citizen_replied"
	EventHandover           store.EventKind = "handover"
	EventTransferred        store.EventKind = "transferred"
	EventTransferredOut     store.EventKind = "transferred_out"
	EventExtensionRequested store.EventKind = "extension_requested"
	EventExtensionApproved  store.EventKind = "extension_approved"
	EventExtensionRefused   store.EventKind = "extension_rejected"
	EventResolved           store.EventKind = "resolved"
	EventReopened           store.EventKind = "reopened"
	EventClosed             store.EventKind = "closed"
	EventReminded           store.EventKind = "reminded"
	EventEscalated          store.EventKind = "escalated"
	EventUrgentAlert        store.EventKind = "urgent_alert"
	EventPhoneRevealed      store.EventKind = "phone_revealed"
	EventIDRevealed         store.EventKind = "id_revealed"
	EventUndeliverable      store.EventKind = "undeliverable"
	EventNotDelivered       store.EventKind = "not_delivered"
	EventVisited            store.EventKind = "visited"
	EventVisitChannel       store.EventKind = "visit_channel"
	EventVisitReminded      store.EventKind = "visit_reminded"
	EventVisitExpired       store.EventKind = "visit_expired"
	EventRated              store.EventKind = "rated"
	EventSurveyComment      store.EventKind = "survey_comment"
	EventRectified          store.EventKind = "rectified"
	EventRectifierNamed     store.EventKind = "rectifier_named"
	EventAppealed           store.EventKind = "appealed"
	EventAppealApproved     store.EventKind = "appeal_approved"
	EventAppealRefused      store.EventKind = "appeal_refused"
	EventPraised            store.EventKind = "praised"
	EventErased             store.EventKind = "erased"
)

// eventOf is the history kind each operation records.
var eventOf = map[Op]store.EventKind{
	OpOpen: EventCreated, OpAssign: EventAssigned, OpAccept: EventAccepted, OpReply: EventReplied,
	OpAskMore: EventAskedMore, OpCitizenReply: EventCitizenReplied, OpHandover: EventHandover,
	OpTransfer: EventTransferred, OpTransferOut: EventTransferredOut,
	OpRequestExtension: EventExtensionRequested, OpApproveExtension: EventExtensionApproved,
	OpRefuseExtension: EventExtensionRefused, OpResolve: EventResolved, OpReopen: EventReopened,
	OpClose: EventClosed, OpRemind: EventReminded, OpEscalate: EventEscalated,
	OpUrgentAlert: EventUrgentAlert, OpRevealPhone: EventPhoneRevealed, OpRevealID: EventIDRevealed, OpUndeliverable: EventUndeliverable,
	OpNotDelivered: EventNotDelivered, OpVisit: EventVisited, OpVisitChannel: EventVisitChannel,
	OpVisitRemind: EventVisitReminded, OpVisitExpire: EventVisitExpired, OpRate: EventRated,
	OpSurveyComment: EventSurveyComment, OpRectify: EventRectified, OpNameRectifier: EventRectifierNamed, OpAppeal: EventAppealed,
	OpApproveAppeal: EventAppealApproved, OpRefuseAppeal: EventAppealRefused, OpPraise: EventPraised,
	OpErase: EventErased,
}
