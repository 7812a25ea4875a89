// The simulator's chat page: plays one WeChat user talking to the account, or (WeCom mode) one
// officer talking to the bureau's WeCom application. It sends through POST /sim/api/send or
// POST /sim/api/wecom/send and long-polls GET /sim/api/messages for the conversation.
(function () {
  'use strict';

  var $ = function (sel) { return document.querySelector(sel); };
  var chat = $('#chat');
  var state = { menu: [], qrcodes: [], users: [] };
  var openid = ''; // the openid, or in WeCom mode the member's userid
  var channel = 'wechat';
  var lastSeq = 0;
  var poller = null;
  var toastTimer = null;

  var KIND_LABEL = {
    reply: '被动回复', custom: '客服消息', template: '模板消息', subscribe: '订阅通知', wecom: '应用消息'
  };
  var CHANNELS = {
    wechat: {
      select: '#openid-select', store: 'huimin.sim.openid', placeholder: '或输入 openid', ask: '请输入 openid',
      empty: '还没有消息。发送一条消息，或点下方 ＋ 关注公众号。', send: '/sim/api/send', verify: '/sim/api/verify', idField: 'openid'
    },
    wecom: {
      select: '#wecom-select', store: 'huimin.sim.userid', placeholder: '或输入 userid', ask: '请输入 userid',
      empty: '还没有消息。发送一条命令，或点下方 ＋ 进入应用。', send: '/sim/api/wecom/send', verify: '/sim/api/wecom/verify', idField: 'userid'
    }
  };
  function cfg() { return CHANNELS[channel]; }
  var MEDIA_LABEL = {
    image: '[图片]', voice: '[语音]', video: '[视频]', shortvideo: '[小视频]', music: '[音乐]',
    mpnews: '[图文]', mpnewsarticle: '[图文]', wxcard: '[卡券]', miniprogrampage: '[小程序]'
  };

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = text; }
    return e;
  }

  function toast(text) {
    var t = $('#toast');
    t.textContent = text;
    t.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { t.hidden = true; }, 3500);
  }

  function hhmm(iso) {
    var d = new Date(iso);
    if (isNaN(d)) { return ''; }
    return String(d.getHours()).padStart(2, '0') + ':' + String(d.getMinutes()).padStart(2, '0');
  }

  // Text messages may carry <a href="…">…</a> links, as WeChat allows; everything else is text.
  function richText(parent, text) {
    var re = /<a\s+[^>]*?href=["']([^"']+)["'][^>]*>([\s\S]*?)<\/a>/gi;
    var last = 0, m;
    while ((m = re.exec(text)) !== null) {
      parent.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (/^weixin:\/\/bizmsgmenu\?/i.test(m[1])) {
        // A tappable menu line, as WeChat shows it: tapping sends its
        // msgmenucontent as the person's message, with its msgmenuid.
        var q = new URLSearchParams(m[1].slice(m[1].indexOf('?') + 1).replace(/&amp;/g, '&'));
        var btn = el('button', 'choice inline', m[2]);
        btn.type = 'button';
        btn.dataset.id = q.get('msgmenuid') || '';
        (function (content, id) {
          btn.addEventListener('click', function () { send({ type: 'text', content: content, bizmsgmenuid: id }); });
        })(q.get('msgmenucontent') || '', q.get('msgmenuid') || '');
        parent.appendChild(btn);
      } else if (/^https?:\/\//i.test(m[1])) {
        var a = el('a', '', m[2]);
        a.href = m[1]; a.target = '_blank'; a.rel = 'noopener noreferrer';
        parent.appendChild(a);
      } else {
        parent.appendChild(el('span', 'media', m[2]));
      }
      last = re.lastIndex;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function menuName(key) {
    var found = key;
    (state.menu || []).forEach(function (b) {
      if (b.key === key) { found = b.name; }
      (b.sub_button || []).forEach(function (sb) { if (sb.key === key) { found = sb.name; } });
    });
    return found;
  }

  function sysLine(text, cls, detail) {
    var d = el('div', 'sys' + (cls ? ' ' + cls : ''));
    d.appendChild(el('span', '', text));
    if (detail) { d.appendChild(el('small', 'detail', detail)); }
    return d;
  }

  function eventText(m) {
    var key = m.text || '';
    switch (m.msg_type) {
      case 'subscribe':
        return key.indexOf('qrscene_') === 0 ? '你扫码关注了公众号（场景 ' + key.slice(8) + '）' : '你关注了公众号';
      case 'unsubscribe': return '你取消关注了公众号';
      case 'SCAN': return '你扫描了二维码（场景 ' + key + '）';
      case 'CLICK': return '你点击了菜单「' + menuName(key) + '」';
      case 'VIEW': return '你打开了菜单链接 ' + key;
      case 'LOCATION': return '你上报了地理位置';
      case 'subscribe_msg_popup_event': return '你同意接收订阅通知';
      case 'enter_agent': return '你进入了应用';
      case 'click': return '你点击了应用菜单「' + key + '」';
      case 'view': return '你打开了应用菜单链接 ' + key;
      default: return '事件 ' + m.msg_type + (key ? '（' + key + '）' : '');
    }
  }

  function bubbleRow(fromUser, label) {
    var row = el('div', 'msg ' + (fromUser ? 'from-user' : 'from-account'));
    row.appendChild(el('div', 'avatar', fromUser ? '我' : '惠'));
    var body = el('div', 'body');
    row.appendChild(body);
    return { row: row, body: body };
  }

  function renderUser(m) {
    var userTypes = { text: 1, image: 1, voice: 1, video: 1, shortvideo: 1, location: 1, link: 1 };
    if (!userTypes[m.msg_type]) { return sysLine(eventText(m)); }
    var r = bubbleRow(true);
    var b = el('div', 'bubble');
    switch (m.msg_type) {
      case 'text': b.textContent = m.text; break;
      case 'voice': b.textContent = '🎤 ' + (m.text || '（语音）'); break;
      case 'location': b.textContent = '📍 ' + (m.text || '位置'); break;
      case 'link': b.textContent = '🔗 ' + (m.text || '链接'); break;
      default: b.textContent = MEDIA_LABEL[m.msg_type] || m.msg_type;
    }
    r.body.appendChild(b);
    r.body.appendChild(el('div', 'meta', hhmm(m.time)));
    return r.row;
  }

  function renderCard(m) {
    var t = m.template || { fields: [] };
    var card = el('div', 'card');
    card.appendChild(el('div', 'card-title', m.kind === 'subscribe' ? '订阅通知' : '模板消息'));
    card.appendChild(el('div', 'card-sub', '模板 ' + t.template_id));
    var dl = el('dl');
    (t.fields || []).forEach(function (f) {
      if (f.key === 'first' || f.key === 'remark') {
        var p = el('div', 'plain', f.value);
        if (f.color) { p.style.color = f.color; }
        dl.appendChild(p);
        return;
      }
      var row = el('div', 'row');
      row.appendChild(el('dt', '', f.key));
      var dd = el('dd', '', f.value);
      if (f.color) { dd.style.color = f.color; }
      row.appendChild(dd);
      dl.appendChild(row);
    });
    card.appendChild(dl);
    var target = t.url || t.page || t.miniprogram;
    if (target) {
      var a = el('a', 'card-link', '详情');
      a.href = t.url && /^https?:\/\//i.test(t.url) ? t.url : '#';
      a.title = target; a.target = '_blank'; a.rel = 'noopener noreferrer';
      card.appendChild(a);
    }
    return card;
  }

  // WeCom textcard descriptions may carry <div class="gray|normal|highlight"> and <br>; every
  // other tag is dropped and entities decoded, and nothing is parsed as HTML.
  function cardDescription(parent, html) {
    var decode = function (t) {
      return t.replace(/<br\s*\/?>/gi, '\n').replace(/<[^>]*>/g, '')
        .replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&nbsp;/g, ' ').replace(/&amp;/g, '&');
    };
    var re = /<div\s+class=["'](gray|normal|highlight)["']\s*>([\s\S]*?)<\/div>/gi;
    var last = 0, m;
    while ((m = re.exec(html)) !== null) {
      var before = decode(html.slice(last, m.index));
      if (before.trim()) { parent.appendChild(el('div', '', before)); }
      parent.appendChild(el('div', 'tc-' + m[1].toLowerCase(), decode(m[2])));
      last = re.lastIndex;
    }
    var rest = decode(html.slice(last));
    if (rest.trim()) { parent.appendChild(el('div', '', rest)); }
  }

  function renderTextCard(m) {
    var c = m.textcard || {};
    var card = el('div', 'card textcard');
    card.appendChild(el('div', 'card-title', c.title || ''));
    var desc = el('div', 'tc-desc');
    cardDescription(desc, c.description || '');
    card.appendChild(desc);
    var a = el('a', 'card-link', c.btntxt || '详情');
    a.href = /^https?:\/\//i.test(c.url || '') ? c.url : '#';
    a.title = c.url || ''; a.target = '_blank'; a.rel = 'noopener noreferrer';
    card.appendChild(a);
    return card;
  }

  function renderAccount(m) {
    var r = bubbleRow(false);
    var content;
    if (m.kind === 'wecom' && m.msg_type === 'textcard') {
      content = renderTextCard(m);
    } else if (m.kind === 'wecom' && m.msg_type === 'markdown') {
      content = el('div', 'bubble markdown', m.text || '');
    } else if (m.kind === 'template' || m.kind === 'subscribe') {
      content = renderCard(m);
    } else if (m.msg_type === 'msgmenu' && m.menu) {
      content = el('div', 'bubble');
      if (m.menu.head_content) { content.appendChild(el('div', 'menu-head', m.menu.head_content)); }
      var list = el('div', 'choices');
      (m.menu.list || []).forEach(function (c) {
        var btn = el('button', 'choice', c.content);
        btn.type = 'button';
        btn.dataset.id = c.id;
        btn.addEventListener('click', function () {
          send({ type: 'text', content: c.content, bizmsgmenuid: c.id });
        });
        list.appendChild(btn);
      });
      content.appendChild(list);
      if (m.menu.tail_content) { content.appendChild(el('div', 'menu-tail', m.menu.tail_content)); }
    } else if (m.msg_type === 'news' && m.articles) {
      content = el('div', 'card');
      m.articles.forEach(function (a) {
        var link = el('a', 'article card-link');
        link.href = /^https?:\/\//i.test(a.url || '') ? a.url : '#';
        link.target = '_blank'; link.rel = 'noopener noreferrer';
        link.appendChild(el('div', 'a-title', a.title));
        if (a.description) { link.appendChild(el('div', 'a-desc', a.description)); }
        content.appendChild(link);
      });
    } else if (m.msg_type === 'text') {
      content = el('div', 'bubble');
      richText(content, m.text || '');
    } else {
      content = el('div', 'bubble media', (MEDIA_LABEL[m.msg_type] || '[' + m.msg_type + ']') + (m.title ? ' ' + m.title : ''));
      if (m.media_id) { content.appendChild(el('small', '', m.media_id)); }
    }
    r.body.appendChild(content);
    r.body.appendChild(el('div', 'meta', (KIND_LABEL[m.kind] || m.kind) + ' · ' + hhmm(m.time)));
    return r.row;
  }

  function render(m) {
    var node;
    if (m.kind === 'user') {
      node = renderUser(m);
    } else if (m.kind === 'notice') {
      node = sysLine(m.text, 'notice', m.raw);
    } else {
      node = renderAccount(m);
    }
    node.classList.add('entry');
    node.dataset.kind = m.kind;
    node.dataset.seq = m.seq;
    node.dataset.msgType = m.msg_type;
    var empty = $('#chat-empty');
    if (empty) { empty.remove(); }
    chat.appendChild(node);
    chat.scrollTop = chat.scrollHeight;
  }

  function poll(ctrl) {
    var url = '/sim/api/messages?all=1&wait=25&channel=' + channel + '&openid=' + encodeURIComponent(openid) + '&after=' + lastSeq;
    fetch(url, { signal: ctrl.signal, cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (j) {
        if (ctrl.signal.aborted) { return; }
        var changed = false;
        (j.messages || []).forEach(function (m) {
          if (m.seq > lastSeq) { render(m); lastSeq = m.seq; changed = true; }
        });
        if (changed) { loadState(); }
        poll(ctrl);
      })
      .catch(function () {
        if (!ctrl.signal.aborted) { setTimeout(function () { poll(ctrl); }, 1000); }
      });
  }

  function loadState() {
    return fetch('/sim/api/state', { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        state = s;
        renderMenu();
        renderQRCodes();
        renderFollow();
      })
      .catch(function () { /* the next poll retries */ });
  }

  function renderFollow() {
    var me = (state.users || []).filter(function (u) { return u.openid === openid; })[0];
    var f = $('#follow-state');
    f.textContent = me && me.subscribed ? '已关注' : '未关注';
    f.classList.toggle('on', !!(me && me.subscribed));
  }

  function renderQRCodes() {
    var sel = $('#qr-select');
    var keep = sel.value;
    sel.innerHTML = '';
    var codes = state.qrcodes || [];
    if (!codes.length) {
      sel.appendChild(el('option', '', '（服务尚未生成二维码）')).value = '';
      return;
    }
    codes.forEach(function (q) {
      var o = el('option', '', '场景 ' + q.scene + (q.permanent ? '（永久）' : '（临时）'));
      o.value = q.ticket;
      sel.appendChild(o);
    });
    if (keep) { sel.value = keep; }
  }

  function closeSubmenus() {
    document.querySelectorAll('.submenu').forEach(function (s) { s.remove(); });
  }

  function menuAction(b) {
    closeSubmenus();
    switch (b.type) {
      case 'click':
        return send({ type: 'event', event: 'CLICK', event_key: b.key });
      case 'view':
        toast('打开网页：' + b.url + '（模拟器不联网）');
        return send({ type: 'event', event: 'VIEW', event_key: b.url });
      case 'miniprogram':
        toast('打开小程序：' + b.pagepath);
        return send({ type: 'event', event: 'view_miniprogram', event_key: b.pagepath });
      case 'scancode_push':
      case 'scancode_waitmsg':
        return send({ type: 'event', event: b.type, event_key: b.key, content: 'sim-scan-result' });
      case 'location_select':
        return send({ type: 'event', event: 'location_select', event_key: b.key, lat: 23.12911, lng: 113.264385, label: '区民政局服务大厅' })
          .then(function () { return sendLocation(); });
      case 'pic_sysphoto':
      case 'pic_photo_or_album':
      case 'pic_weixin':
        return send({ type: 'event', event: b.type, event_key: b.key }).then(function () { return send({ type: 'image' }); });
      default:
        toast('此菜单由微信直接下发素材，不推送给服务器');
    }
  }

  function renderMenu() {
    var bar = $('#menu-bar');
    bar.innerHTML = '';
    var menu = state.menu || [];
    bar.hidden = menu.length === 0;
    menu.forEach(function (b) {
      var item = el('div', 'menu-item');
      var btn = el('button', '', b.name);
      btn.type = 'button';
      btn.dataset.key = b.key || '';
      var subs = b.sub_button || [];
      if (subs.length) {
        item.classList.add('has-sub');
        btn.addEventListener('click', function (ev) {
          ev.stopPropagation();
          var open = item.querySelector('.submenu');
          closeSubmenus();
          if (open) { return; }
          var pop = el('div', 'submenu');
          subs.forEach(function (sb) {
            var s = el('button', '', sb.name);
            s.type = 'button';
            s.dataset.key = sb.key || '';
            s.addEventListener('click', function (e2) { e2.stopPropagation(); menuAction(sb); });
            pop.appendChild(s);
          });
          item.appendChild(pop);
        });
      } else {
        btn.addEventListener('click', function () { menuAction(b); });
      }
      item.appendChild(btn);
      bar.appendChild(item);
    });
  }

  function send(msg) {
    msg[cfg().idField] = openid;
    return fetch(cfg().send, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(msg)
    })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (res) {
        if (!res.ok) { toast(res.j.error || '发送失败'); }
        loadState();
        return res;
      })
      .catch(function (e) { toast('发送失败：' + e); });
  }

  function sendLocation() {
    var label = $('#msg-input').value.trim() || '区民政局服务大厅';
    $('#msg-input').value = '';
    return send({ type: 'location', lat: 23.12911, lng: 113.264385, scale: 16, label: label });
  }

  function sendText() {
    var input = $('#msg-input');
    var text = input.value.trim();
    if (!text) { return; }
    input.value = '';
    send({ type: 'text', content: text });
  }

  function switchUser(id) {
    id = (id || '').trim();
    if (!id) { toast(cfg().ask); return; }
    openid = id;
    try { localStorage.setItem(cfg().store, id); } catch (e) { /* private mode */ }
    var sel = $(cfg().select);
    var preset = Array.prototype.some.call(sel.options, function (o) { return o.value === id; });
    sel.value = preset ? id : '';
    $('#openid-input').value = preset ? '' : id;
    lastSeq = 0;
    chat.innerHTML = '';
    chat.appendChild(el('div', 'empty', cfg().empty)).id = 'chat-empty';
    if (poller) { poller.abort(); }
    poller = new AbortController();
    poll(poller);
    loadState();
  }

  function savedUser() {
    var saved = '';
    try { saved = localStorage.getItem(cfg().store) || ''; } catch (e) { /* private mode */ }
    return saved || $(cfg().select).value || (channel === 'wecom' ? 'wang.ming' : 'citizen-001');
  }

  // switchChannel plays a citizen on the Official Account (wechat) or an officer in WeCom.
  function switchChannel(ch) {
    if (!CHANNELS[ch] || (ch === 'wecom' && !$('#wecom-select'))) { ch = 'wechat'; }
    channel = ch;
    document.body.dataset.channel = ch;
    document.querySelectorAll('.channels [role="tab"]').forEach(function (b) {
      b.setAttribute('aria-selected', b.dataset.channel === ch ? 'true' : 'false');
    });
    $('#openid-input').placeholder = cfg().placeholder;
    $('#openid-input').setAttribute('aria-label', cfg().idField);
    try { localStorage.setItem('huimin.sim.channel', ch); } catch (e) { /* private mode */ }
    switchUser(savedUser());
  }

  // Wiring.
  document.querySelectorAll('.channels [role="tab"]').forEach(function (b) {
    b.addEventListener('click', function () { if (b.dataset.channel !== channel) { switchChannel(b.dataset.channel); } });
  });
  if ($('#wecom-select')) {
    $('#wecom-select').addEventListener('change', function (e) {
      if (e.target.value) { switchUser(e.target.value); } else { $('#openid-input').focus(); }
    });
  }
  $('#act-enter').addEventListener('click', function () { send({ type: 'event', event: 'enter_agent' }); });
  $('#send-btn').addEventListener('click', sendText);
  $('#msg-input').addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.isComposing) { e.preventDefault(); sendText(); }
  });
  $('#openid-select').addEventListener('change', function (e) {
    if (e.target.value) { switchUser(e.target.value); } else { $('#openid-input').focus(); }
  });
  $('#openid-apply').addEventListener('click', function () {
    switchUser($('#openid-input').value || $(cfg().select).value);
  });
  $('#openid-input').addEventListener('keydown', function (e) {
    if (e.key === 'Enter') { switchUser(e.target.value); }
  });
  $('#tools-toggle').addEventListener('click', function () { $('#tools').hidden = !$('#tools').hidden; });
  $('#act-subscribe').addEventListener('click', function () { send({ type: 'event', event: 'subscribe' }); });
  $('#act-unsubscribe').addEventListener('click', function () { send({ type: 'event', event: 'unsubscribe' }); });
  $('#act-location').addEventListener('click', sendLocation);
  $('#act-image').addEventListener('click', function () { send({ type: 'image' }); });
  $('#act-voice').addEventListener('click', function () {
    var input = $('#msg-input');
    var text = input.value.trim();
    if (!text) { toast('先在输入框写下要“说”的话'); return; }
    input.value = '';
    send({ type: 'voice', recognition: text });
  });
  $('#act-scan').addEventListener('click', function () {
    var ticket = $('#qr-select').value;
    if (!ticket) { toast('服务还没有生成二维码'); return; }
    send({ type: 'scan', ticket: ticket });
  });
  $('#act-grant').addEventListener('click', function () {
    var tpl = $('#tpl-input').value.trim();
    if (!tpl) { toast('请输入订阅通知的模板 ID'); return; }
    send({ type: 'event', event: 'subscribe_msg_popup_event', subscriptions: [{ template_id: tpl, status: 'accept' }] });
  });
  $('#act-verify').addEventListener('click', function () {
    fetch(cfg().verify, { method: 'POST' })
      .then(function (r) { return r.json(); })
      .then(function (j) { toast(j.ok ? 'URL 校验通过' : 'URL 校验失败：' + j.error); })
      .catch(function (e) { toast('URL 校验失败：' + e); });
  });
  document.addEventListener('click', closeSubmenus);

  var savedChannel = '';
  try { savedChannel = localStorage.getItem('huimin.sim.channel') || ''; } catch (e) { /* private mode */ }
  switchChannel(savedChannel || 'wechat');
}());
