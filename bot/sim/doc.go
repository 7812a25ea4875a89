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
