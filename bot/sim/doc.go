// Package sim is the project's own simulator of the WeChat platform, for officer training and
// for every end-to-end test. It runs on loopback and plays both sides of WeChat that the
// service talks to:
//
//   - the WeChat API at WeChat's own paths (/cgi-bin/token, /cgi-bin/stable_token,
//     /cgi-bin/message/custom/send, /cgi-bin/message/template/send,
//     /cgi-bin/message/subscribe/bizsend, /cgi-bin/user/info, /cgi-bin/menu/create,
//     /cgi-bin/menu/get, /cgi-bin/qrcode/create …), with WeChat's JSON shapes and errcodes,
//     so the service's SDK can be pointed at the simulator with util.SetURIModifier;
//   - the WeChat servers that push a user's messages and events to the service's webhook,
//     signed and (in safe or compatible mode) encrypted exactly as WeChat does, retried when
//     the webhook does not answer within 5 seconds, with the passive reply decrypted and
//     verified;
//   - a chat page at / where a person plays a citizen or an officer, and a JSON API under
//     /sim/api/ for tests and scripts.
//
// The simulator keeps WeChat's platform rules that shape the service's design: the 48-hour
// customer-service window (errcode 45015) and its per-action message limit (45047), access
// tokens that expire (42001) or are replaced (40001), template-message de-duplication by
// client_msg_id, and subscribe notices that need the user's consent (43101). Faults such as
// HTTP 500, slow answers and expired tokens can be switched on to test the service's error
// paths.
//
// # Using it
//
//	s := sim.New(sim.Options{AppID: id, AppSecret: secret, Token: token, AESKey: key,
//		WebhookURL: "http://127.0.0.1:8080/wechat"})
//	defer s.Close()
//	srv := httptest.NewServer(s.Handler()) // or http.Server on 127.0.0.1 for training
//	// point the SDK at it once, before goroutines start:
//	util.SetURIModifier(func(u string) string {
//		return strings.Replace(u, "https://api.weixin.qq.com", srv.URL, 1)
//	})
//	res, err := s.Send(ctx, sim.Message{OpenID: "citizen-001", Type: sim.TypeText, Content: "你好"})
//	got, err := s.WaitReceived(ctx, "citizen-001", 2) // the reply and, say, a msgmenu
//
// # JSON API for tests and scripts
//
//	POST /sim/api/send      {"openid":"citizen-001","type":"text","content":"你好"}
//	                        {"openid":"citizen-001","type":"voice","recognition":"我想办低保"}
//	                        {"openid":"citizen-001","type":"location","lat":23.129,"lng":113.264,"label":"区民政局"}
//	                        {"openid":"citizen-001","type":"event","event":"CLICK","event_key":"MENU_ASK"}
//	                        {"openid":"citizen-001","type":"scan","ticket":"gQ…"}   (or "event_key": the scene)
//	                        {"openid":"citizen-001","type":"text","content":"满意","bizmsgmenuid":"101"}
//	                        {"openid":"citizen-001","type":"event","event":"subscribe_msg_popup_event",
//	                         "subscriptions":[{"template_id":"TPL","status":"accept"}]}
//	    → 200 {"status":200,"reply":{"msg_type":"text","content":"…","xml":"…"},"deliveries":1,
//	           "msg_id":"24000000000000123","create_time":1772415000}
//	      ("reply" is null for "success"; "error" is set when the webhook failed; 400 for a bad message)
//	GET  /sim/api/messages?openid=X[&after=SEQ][&wait=SECONDS][&all=1]
//	    → {"openid":"X","messages":[{"seq":3,"kind":"reply","msg_type":"text","text":"…",…}]}
//	      (wait long-polls up to 30 s; all=1 adds the user's own messages and WeChat's notices)
//	POST /sim/api/faults    {"kind":"out_of_window","openid":"citizen-001"}
//	                        {"kind":"http_500"}  {"kind":"http_500","path":"/cgi-bin/message/custom/send"}
//	                        {"kind":"delay","delay_ms":6000}  {"kind":"errcode","errcode":-1}
//	                        {"kind":"expire_tokens"}  {"kind":"clear"}  (add "off":true to switch one off)
//	GET  /sim/api/faults    → {"faults":[…]}
//	GET  /sim/api/stats     → {"calls":{"/cgi-bin/stable_token":1,…}}
//	GET  /sim/api/state     → mode, menu, QR codes, users and presets (what the chat page draws)
//	POST /sim/api/verify    → {"ok":true} after the GET echostr handshake with the webhook
//
// Protocol references:
//   - receiving messages: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
//   - events: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
//   - passive replies: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
//   - safe mode: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
//   - customer-service messages: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
//   - template messages: https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
//   - subscribe notices: https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html
//   - stable token: https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken
//   - global return codes: https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
package sim
