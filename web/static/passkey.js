// Passkeys (WebAuthn) for sesame's forms. A form with data-passkey="create"
// or "get" holds, in a <script type="application/json"> named by its
// data-options attribute, the options the server made; its submit button
// asks the browser for a passkey, puts the answer in the form's "answer"
// field and posts the form. Without WebAuthn the form stays hidden: the
// page's other ways (password, app code) remain.
(function () {
  "use strict";
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }
  function bytes(s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) { s += "="; }
    var bin = atob(s), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out.buffer;
  }
  function text(buf) {
    var b = new Uint8Array(buf), s = "";
    for (var i = 0; i < b.length; i++) { s += String.fromCharCode(b[i]); }
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function ids(list) {
    return (list || []).map(function (c) { var d = Object.assign({}, c); d.id = bytes(c.id); return d; });
  }
  function creationOptions(o) {
    var p = Object.assign({}, o.publicKey);
    p.challenge = bytes(p.challenge);
    p.user = Object.assign({}, p.user, { id: bytes(p.user.id) });
    p.excludeCredentials = ids(p.excludeCredentials);
    return { publicKey: p };
  }
  function requestOptions(o) {
    var p = Object.assign({}, o.publicKey);
    p.challenge = bytes(p.challenge);
    p.allowCredentials = ids(p.allowCredentials);
    return { publicKey: p };
  }
  function answer(cred) {
    var r = cred.response, out = { id: cred.id, rawId: text(cred.rawId), type: cred.type,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      response: { clientDataJSON: text(r.clientDataJSON) } };
    if (r.attestationObject) {
      out.response.attestationObject = text(r.attestationObject);
      if (r.getTransports) { out.response.transports = r.getTransports(); }
    } else {
      out.response.authenticatorData = text(r.authenticatorData);
      out.response.signature = text(r.signature);
      if (r.userHandle) { out.response.userHandle = text(r.userHandle); }
    }
    return JSON.stringify(out);
  }
  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    var el = document.getElementById(form.getAttribute("data-options"));
    if (!el) { return; }
    var options = JSON.parse(el.textContent), create = form.getAttribute("data-passkey") === "create";
    var status = form.querySelector("[role=status]");
    form.hidden = false;
    form.addEventListener("submit", function (ev) {
      if (form.elements.answer.value) { return; }
      ev.preventDefault();
      if (status) { status.hidden = true; }
      var ask = create ? navigator.credentials.create(creationOptions(options))
        : navigator.credentials.get(requestOptions(options));
      ask.then(function (cred) {
        form.elements.answer.value = answer(cred);
        form.submit();
      }, function () {
        if (status) { status.hidden = false; }
      });
    });
  });
})();
