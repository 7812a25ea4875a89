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
//   - with Options.CorpID set, WeCom (企业微信) for officers: the API at WeCom's paths
//     (/cgi-bin/gettoken, /cgi-bin/message/send with text, textcard and markdown, on the same
//     mux as the Official Account's /cgi-bin/token), and the WeCom servers that post a
//     member's messages and events to the service's WeCom callback, encrypted with the CorpID
//     as receiveid and signed with msg_signature (SendWeCom, VerifyWeComURL);
//   - WeChat's web authorisation (网页授权): the authorize page at
//     /connect/oauth2/authorize (open.weixin.qq.com's path) and the code exchange at
//     /sns/oauth2/access_token (see "Web authorisation" below);
//   - a chat page at / where a person plays a citizen or an officer (on the Official Account,
//     or in WeCom on its own tab), and a JSON API under /sim/api/ for tests and scripts.
//
// The simulator keeps WeChat's platform rules that shape the service's design: the 48-hour
// customer-service window (errcode 45015) and its per-action message limit (45047), access
// tokens that expire (42001) or are replaced (40001), template-message de-duplication by
// client_msg_id, and subscribe notices that need the user's consent (43101); on WeCom,
// unreachable userids listed in invaliduser with errcode 0, and the per-member limit of 30
// application messages a minute and 1000 an hour (45033). Faults such as
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
// WeCom needs its own options and the WeCom host in the URI modifier too:
//
//	s := sim.New(sim.Options{ /* … */ CorpID: "ww…", CorpSecret: secret, AgentID: 1000002,
//		WeComToken: token, WeComAESKey: key, WeComWebhookURL: "http://127.0.0.1:8080/wecom"})
//	// and replace "https://qyapi.weixin.qq.com" with srv.URL as well
//	res, err := s.SendWeCom(ctx, sim.WeComMessage{UserID: "wang.ming", Type: sim.TypeText, Content: "接单 HM…"})
//	got, err := s.WaitReceived(ctx, "wang.ming", 1) // a KindWeCom application message
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
//	GET  /sim/api/messages?openid=X[&after=SEQ][&wait=SECONDS][&all=1][&channel=wechat|wecom]
//	    → {"openid":"X","messages":[{"seq":3,"kind":"reply","msg_type":"text","text":"…",…}]}
//	      (wait long-polls up to 30 s; all=1 adds the user's own messages and WeChat's notices;
//	      channel keeps one side when an id is both an openid and a WeCom userid)
//	POST /sim/api/wecom/send {"userid":"wang.ming","type":"text","content":"接单 HM20260302001"}
//	                        {"userid":"wang.ming","type":"event","event":"enter_agent"}
//	                        {"userid":"wang.ming","type":"event","event":"click","event_key":"MY_TICKETS"}
//	                        {"userid":"wang.ming","type":"location","lat":23.129,"lng":113.264,"label":"区民政局"}
//	    → the same Result as /sim/api/send ("reply" is null for an empty answer); 409 without WeCom
//	POST /sim/api/wecom/verify → {"ok":true} after WeCom's encrypted-echostr URL check
//	POST /sim/api/faults    {"kind":"out_of_window","openid":"citizen-001"}
//	                        {"kind":"http_500"}  {"kind":"http_500","path":"/cgi-bin/message/custom/send"}
//	                        {"kind":"delay","delay_ms":6000}  {"kind":"errcode","errcode":-1}
//	                        {"kind":"drop","times":1}  {"kind":"reset"}
//	                        {"kind":"late_answer","path":"/cgi-bin/message/custom/send","delay_ms":6000,"times":1}
//	                        {"kind":"expire_tokens"}  {"kind":"revoke_tokens"}  {"kind":"clear"}
//	                        (add "off":true to switch one off)
//	GET  /sim/api/faults    → {"faults":[…]}
//	GET  /sim/api/stats     → {"calls":{"/cgi-bin/stable_token":1,…}}
//	GET  /sim/api/state     → mode, menu, QR codes, users, presets and "wecom" (enabled, corp_id,
//	                          agent_id, members): what the chat page draws
//	POST /sim/api/verify    → {"ok":true} after the GET echostr handshake with the webhook
//
// # Web authorisation (网页授权)
//
// A page of the service that wants to know which WeChat user opened it sends the browser to
//
//	GET /connect/oauth2/authorize?appid=APPID&redirect_uri=ENC&response_type=code
//	    &scope=snsapi_base&state=STATE#wechat_redirect
//
// and the simulator, like WeChat, answers 302 to redirect_uri?code=CODE&state=STATE (code
// and state added after redirect_uri's own query; snsapi_userinfo's consent screen is taken
// as accepted). It checks appid, redirect_uri (an absolute http or https URL, on one of
// Options.OAuthDomains when set: 网页授权域名, ports ignored), response_type=code, scope
// snsapi_base or snsapi_userinfo, and state of at most 128 bytes; a bad one shows WeChat's
// error words (10003 redirect_uri域名与后台配置不一致, 10005, 10010, 10011, 10012 …) on a page
// with HTTP 400 where WeChat shows its error page with them.
//
// WeChat knows who is logged in to the client; the simulator must be told. The
// simulator-only query parameter sim_openid names the user whose in-app browser opened the
// link, and sets a sim_openid cookie (Path /connect/oauth2/) that later links in the same
// browser use; the parameter wins over the cookie. A test adds it to the authorize URL the
// service redirected to:
//
//	GET /connect/oauth2/authorize?appid=…&redirect_uri=…&response_type=code&scope=snsapi_base
//	    &state=…&sim_openid=citizen-001
//	    → 302 Location: https://huimin.example/survey/TOKEN?code=0a1B…&state=…
//
// By hand, with neither (a survey link opened from a template card on the chat page), the
// authorize page lists the ready-made users to choose from, and carries the link on.
//
// The service then exchanges the code, once, within five minutes (OAuthCodeLifetime):
//
//	GET /sns/oauth2/access_token?appid=APPID&secret=SECRET&code=CODE&grant_type=authorization_code
//	    → {"access_token":"…","expires_in":7200,"refresh_token":"…","openid":"citizen-001","scope":"snsapi_base"}
//	      a used code 40163 (code been used); an unknown or expired one 40029 (invalid code);
//	      none 41008; a wrong appid 40013, secret 40125, grant_type 40002
//
// The exchange is an API call like the others: it is counted and faults apply to it (a fault
// may name the path /sns/oauth2/access_token). The simulator does not model the account's
// type: real WeChat allows web authorisation only to a verified 服务号.
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
//   - web authorisation: https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
//   - WeCom callback and encryption: https://developer.work.weixin.qq.com/document/path/90930
//   - WeCom messages and events: https://developer.work.weixin.qq.com/document/path/90239, …/90240
//   - WeCom access token: https://developer.work.weixin.qq.com/document/path/91039
//   - WeCom application messages: https://developer.work.weixin.qq.com/document/path/90236
//   - WeCom return codes: https://developer.work.weixin.qq.com/document/path/90313
package sim
