// The workspace's step forms, in the browser. Nothing here talks to the server: the
// private key and the files chosen are read on this computer and never sent.
//
// Signing (鉴定人负责制): the appraiser's own Ed25519 key signs, with WebCrypto, exactly what
// the server checks (appraisal/core/signing.py): the report hash, or for a dissent the hex
// SHA-256 of the canonical JSON {"report_hash", "statement"} (keys sorted, no spaces, the
// statement trimmed and in Unicode NFC, as the server normalises it).
"use strict";

// PKCS#8 wrapping of a raw 32-byte Ed25519 private key (RFC 8410): what WebCrypto imports.
const PKCS8_ED25519 = [0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20];

function bytesOfBase64(text) {
  const binary = atob(text.replace(/\s+/g, ""));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function base64Of(buffer) {
  return btoa(String.fromCharCode(...new Uint8Array(buffer)));
}

function hexOf(buffer) {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function privateKeyOf(file) {
  const text = (await file.text()).trim();
  let der;
  if (text.startsWith("-----BEGIN PRIVATE KEY-----")) {
    der = bytesOfBase64(text.replace(/-----[A-Z ]+-----/g, ""));
  } else {
    const raw = bytesOfBase64(text);
    if (raw.length !== 32) {
      throw new Error("私钥文件格式不对 Not a key file: PKCS#8 PEM, or base64 of the 32-byte Ed25519 key");
    }
    der = new Uint8Array([...PKCS8_ED25519, ...raw]);
  }
  return crypto.subtle.importKey("pkcs8", der, { name: "Ed25519" }, false, ["sign"]);
}

async function signedMessage(kind, reportHash, statement) {
  const encoder = new TextEncoder();
  if (kind === "sign") {
    return encoder.encode(reportHash);
  }
  const canonical = JSON.stringify({ report_hash: reportHash, statement: statement });
  return encoder.encode(hexOf(await crypto.subtle.digest("SHA-256", encoder.encode(canonical))));
}

function showError(form, message) {
  const shown = form.parentElement.querySelector("#sign-error");
  shown.textContent = message;
  shown.hidden = false;
}

for (const form of document.querySelectorAll("form[data-sign]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!window.isSecureContext || !crypto.subtle) {
      showError(form, "浏览器签名需要 HTTPS Signing in the browser needs HTTPS (or localhost)");
      return;
    }
    const file = form.querySelector("input[data-private-key]").files[0];
    if (!file) {
      showError(form, "请选择私钥文件 Choose your private key file");
      return;
    }
    try {
      const key = await privateKeyOf(file);
      const kind = form.elements.kind.value;
      const statement = kind === "dissent" ? form.elements.statement.value.trim().normalize("NFC") : "";
      const message = await signedMessage(kind, form.dataset.reportHash, statement);
      form.elements.signature.value = base64Of(await crypto.subtle.sign({ name: "Ed25519" }, key, message));
      form.elements.statement.value = statement;
      form.submit(); // does not fire "submit" again
    } catch (err) {
      showError(form, `签名失败 Signing failed: ${err.message || err}`);
    }
  });
}

// An attempt to interfere (IND-1), signed like a dissent: the hex SHA-256 of the canonical JSON
// {"commission_id", "hidden", "occurred_at", "what", "who"} (keys sorted, no spaces), with the
// time in China's offset as the server normalises it (appraisal/core/signing.py).
for (const form of document.querySelectorAll("form[data-sign-interference]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const shown = form.parentElement.querySelector("#interference-error");
    const fail = (message) => {
      shown.textContent = message;
      shown.hidden = false;
    };
    if (!window.isSecureContext || !crypto.subtle) {
      fail("浏览器签名需要 HTTPS Signing in the browser needs HTTPS (or localhost)");
      return;
    }
    const file = form.querySelector("input[data-private-key]").files[0];
    if (!file) {
      fail("请选择私钥文件 Choose your private key file");
      return;
    }
    try {
      const key = await privateKeyOf(file);
      const local = form.querySelector("input[data-local-time]").value;
      const occurredAt = `${local.length === 16 ? `${local}:00` : local}+08:00`;
      const who = form.elements.who.value.trim().normalize("NFC");
      const what = form.elements.what.value.replace(/\r\n/g, "\n").trim().normalize("NFC");
      const hidden = form.elements.hidden_from_institution.checked;
      const canonical = JSON.stringify({
        commission_id: form.dataset.commissionId, hidden: hidden, occurred_at: occurredAt, what: what, who: who,
      });
      const encoder = new TextEncoder();
      const message = encoder.encode(hexOf(await crypto.subtle.digest("SHA-256", encoder.encode(canonical))));
      form.elements.signature.value = base64Of(await crypto.subtle.sign({ name: "Ed25519" }, key, message));
      form.elements.occurred_at.value = occurredAt;
      form.elements.who.value = who;
      form.elements.what.value = what;
      form.submit();
    } catch (err) {
      fail(`签名失败 Signing failed: ${err.message || err}`);
    }
  });
}

// An expert's review of a registration application (ADM-5): their own key signs the hex
// SHA-256 of the canonical JSON {admission_id, expert_id, opinion, recommendation, score} (keys
// sorted, no spaces, the opinion trimmed, in NFC and with LF line breaks, as the server
// normalises it: appraisal/domain/admission.py, review_hash).
for (const form of document.querySelectorAll("form[data-sign-review]")) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!window.isSecureContext || !crypto.subtle) {
      showError(form, "浏览器签名需要 HTTPS Signing in the browser needs HTTPS (or localhost)");
      return;
    }
    const file = form.querySelector("input[data-private-key]").files[0];
    if (!file) {
      showError(form, "请选择私钥文件 Choose your private key file");
      return;
    }
    try {
      const key = await privateKeyOf(file);
      const opinion = form.elements.opinion.value.replace(/\r\n/g, "\n").trim().normalize("NFC");
      const review = {
        admission_id: form.dataset.admissionId,
        expert_id: form.dataset.expertId,
        opinion: opinion,
        recommendation: form.elements.recommendation.value,
        score: Number.parseInt(form.elements.score.value, 10),
      };
      const encoder = new TextEncoder();
      const digest = hexOf(await crypto.subtle.digest("SHA-256", encoder.encode(JSON.stringify(review))));
      form.elements.signature.value = base64Of(await crypto.subtle.sign({ name: "Ed25519" }, key, encoder.encode(digest)));
      form.elements.opinion.value = opinion;
      form.submit();
    } catch (err) {
      showError(form, `签名失败 Signing failed: ${err.message || err}`);
    }
  });
}

// A material's SHA-256, computed here from the file chosen: the row's name and hash fill in.
for (const chooser of document.querySelectorAll("input[data-hash-file]")) {
  chooser.addEventListener("change", async () => {
    const file = chooser.files[0];
    if (!file || !crypto.subtle) {
      return;
    }
    const row = chooser.closest(".material-row");
    row.querySelector("input[name$='.name']").value = file.name;
    row.querySelector("input[name$='.sha256']").value = hexOf(await crypto.subtle.digest("SHA-256", await file.arrayBuffer()));
  });
}
