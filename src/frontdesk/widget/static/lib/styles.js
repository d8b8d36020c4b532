// The widget's stylesheet, inside its shadow root. Host-page rules cannot reach in; the only
// thing the page can touch is the host element itself, which `:host` resets with !important
// (inside a shadow tree, important :host rules win over the page's important rules).
// Sizes are in px, never rem: a host page may set any font-size on <html>.

export const STYLES = `
:host {
  all: initial !important;
  display: block !important;
  position: fixed !important;
  inset: auto !important;
  width: 0 !important;
  height: 0 !important;
  z-index: 2147483000 !important;
  visibility: visible !important;
  opacity: 1 !important;
}
*, *::before, *::after { box-sizing: border-box; }
.fd {
  --fd-brand: #3b5bdb;
  --fd-brand-ink: #ffffff;
  --fd-ink: #1f2430;
  --fd-muted: #6b7280;
  --fd-line: #e6e8ef;
  --fd-soft: #f4f6fb;
  --fd-danger: #c92a2a;
  font: 400 14px/1.45 -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue",
    Arial, sans-serif;
  color: var(--fd-ink);
  letter-spacing: normal;
  text-align: left;
  text-transform: none;
  -webkit-font-smoothing: antialiased;
}
.fd button, .fd input, .fd textarea { font: inherit; color: inherit; margin: 0; }
.fd button { cursor: pointer; }
.fd :focus-visible { outline: 3px solid color-mix(in srgb, var(--fd-brand) 45%, white); outline-offset: 2px; }
.fd [hidden] { display: none !important; }

.launcher {
  position: fixed; bottom: 20px; right: 20px;
  width: 60px; height: 60px; border-radius: 50%; border: 0; padding: 0;
  display: flex; align-items: center; justify-content: center;
  background: var(--fd-brand); color: var(--fd-brand-ink);
  box-shadow: 0 8px 24px rgba(20, 30, 60, .28);
  transition: transform .18s ease, box-shadow .18s ease;
}
.fd.left .launcher { right: auto; left: 20px; }
.launcher:hover { transform: scale(1.06); box-shadow: 0 10px 28px rgba(20, 30, 60, .34); }
.launcher svg { width: 28px; height: 28px; }
.badge {
  position: absolute; top: -3px; right: -3px; min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; background: #e03131; color: #fff; border: 2px solid #fff;
  font-size: 12px; font-weight: 700; line-height: 18px; text-align: center;
}

.panel {
  position: fixed; bottom: 92px; right: 20px;
  width: 380px; height: min(640px, calc(100vh - 116px));
  display: flex; flex-direction: column; overflow: hidden;
  background: #fff; border-radius: 18px;
  box-shadow: 0 18px 50px rgba(20, 30, 60, .22), 0 2px 8px rgba(20, 30, 60, .08);
  animation: fd-rise .2s ease-out;
}
.fd.left .panel { right: auto; left: 20px; }
@keyframes fd-rise { from { opacity: 0; transform: translateY(12px); } }

.header {
  flex: none; padding: 18px 18px 16px; color: var(--fd-brand-ink);
  background: linear-gradient(135deg, var(--fd-brand), color-mix(in srgb, var(--fd-brand) 70%, #0b1025));
  display: flex; align-items: center; gap: 10px;
}
.header .titles { flex: 1; min-width: 0; }
.header h2 { margin: 0; font-size: 17px; font-weight: 650; line-height: 1.25; }
.header p { margin: 2px 0 0; font-size: 13px; opacity: .85; }
.icon-button {
  flex: none; width: 34px; height: 34px; border: 0; border-radius: 10px; padding: 0;
  display: inline-flex; align-items: center; justify-content: center;
  background: transparent; color: inherit;
}
.icon-button:hover { background: rgba(255, 255, 255, .16); }
.pill { flex: none; border: 1px solid rgba(255, 255, 255, .45); border-radius: 999px; padding: 4px 11px;
  background: transparent; color: inherit; font-size: 12px; font-weight: 600; }
.pill:hover { background: rgba(255, 255, 255, .16); }
.header .verified { display: inline-block; margin-top: 10px; padding: 2px 10px; border-radius: 999px;
  background: rgba(255, 255, 255, .18); font-size: 12px; font-weight: 600; opacity: 1; }
.icon-button svg { width: 20px; height: 20px; }

.screen { flex: 1; min-height: 0; display: flex; flex-direction: column; background: var(--fd-soft); }
.scroll { flex: 1; min-height: 0; overflow-y: auto; padding: 16px; }

.home-hero { padding: 22px 18px 26px; }
.home-hero h2 { font-size: 22px; }
.home-hero p { font-size: 14px; margin-top: 6px; }
.agents { display: flex; margin-top: 14px; }
.agents .avatar { border: 2px solid var(--fd-brand); margin-right: -8px; }
.card {
  background: #fff; border-radius: 14px; padding: 16px;
  box-shadow: 0 1px 3px rgba(20, 30, 60, .08); margin-bottom: 14px;
}
.card h3 { margin: 0 0 4px; font-size: 15px; font-weight: 650; }
.card p { margin: 0 0 12px; color: var(--fd-muted); font-size: 13px; }
.primary {
  display: inline-flex; align-items: center; gap: 8px; border: 0; border-radius: 10px;
  padding: 10px 16px; background: var(--fd-brand); color: var(--fd-brand-ink); font-weight: 600;
}
.primary:hover { filter: brightness(1.08); }
.primary svg { width: 16px; height: 16px; }
.secondary {
  border: 1px solid var(--fd-line); border-radius: 10px; padding: 8px 14px;
  background: #fff; font-weight: 600;
}
.list-title { margin: 4px 2px 8px; font-size: 12px; font-weight: 700; color: var(--fd-muted);
  text-transform: uppercase; letter-spacing: .04em; }
.conversations { list-style: none; margin: 0; padding: 0; background: #fff; border-radius: 14px;
  box-shadow: 0 1px 3px rgba(20, 30, 60, .08); overflow: hidden; }
.conversations li + li { border-top: 1px solid var(--fd-line); }
.row {
  width: 100%; display: flex; align-items: center; gap: 12px; padding: 12px 14px;
  border: 0; background: #fff; text-align: left;
}
.row:hover { background: #fafbff; }
.row .body { flex: 1; min-width: 0; }
.row .top { display: flex; justify-content: space-between; gap: 8px; }
.row .name { font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.row .time { flex: none; color: var(--fd-muted); font-size: 12px; }
.row .preview { color: var(--fd-muted); font-size: 13px; white-space: nowrap; overflow: hidden;
  text-overflow: ellipsis; }
.row.unread .preview { color: var(--fd-ink); font-weight: 600; }
.chip { display: inline-block; margin-left: 6px; padding: 0 7px; border-radius: 8px;
  background: #eceef4; color: var(--fd-muted); font-size: 11px; font-weight: 600; line-height: 18px; }
.dot { flex: none; width: 9px; height: 9px; border-radius: 50%; background: #e03131; }

.avatar {
  flex: none; width: 36px; height: 36px; border-radius: 50%;
  display: inline-flex; align-items: center; justify-content: center;
  background: color-mix(in srgb, var(--fd-brand) 16%, white); color: var(--fd-brand);
  font-size: 14px; font-weight: 700;
}
.header .avatar { background: rgba(255, 255, 255, .2); color: #fff; }

.messages { display: flex; flex-direction: column; gap: 4px; }
.msg { display: flex; flex-direction: column; max-width: 80%; align-self: flex-start; }
.msg.mine { align-self: flex-end; align-items: flex-end; }
.msg .sender { font-size: 12px; color: var(--fd-muted); margin: 8px 0 2px 4px; }
.bubble {
  padding: 9px 13px; border-radius: 16px 16px 16px 4px; background: #fff;
  box-shadow: 0 1px 2px rgba(20, 30, 60, .08);
  white-space: pre-wrap; overflow-wrap: anywhere; word-break: break-word;
}
.msg.mine .bubble { background: var(--fd-brand); color: var(--fd-brand-ink); border-radius: 16px 16px 4px 16px; }
.msg.pending .bubble { opacity: .6; }
.msg.failed .bubble { background: #fff0f0; color: var(--fd-danger); }
.msg .meta { font-size: 11px; color: var(--fd-muted); margin: 2px 4px 6px; }
.msg.welcome .bubble { background: #fff; }
.typing { display: inline-flex; align-self: flex-start; gap: 4px; padding: 12px 14px; }
.typing span { width: 7px; height: 7px; border-radius: 50%; background: #9aa1b1;
  animation: fd-blink 1.2s infinite ease-in-out; }
.typing span:nth-child(2) { animation-delay: .15s; }
.typing span:nth-child(3) { animation-delay: .3s; }
@keyframes fd-blink { 0%, 80%, 100% { opacity: .3; transform: translateY(0); }
  40% { opacity: 1; transform: translateY(-3px); } }

.composer {
  flex: none; display: flex; align-items: flex-end; gap: 8px; padding: 10px 12px;
  background: #fff; border-top: 1px solid var(--fd-line);
}
.composer textarea {
  flex: 1; resize: none; border: 1px solid var(--fd-line); border-radius: 12px;
  padding: 9px 12px; min-height: 40px; max-height: 120px; background: #fff; outline: none;
  font-size: 14px; line-height: 20px;
}
.composer textarea:focus-visible { outline: none; border-color: var(--fd-brand);
  box-shadow: 0 0 0 3px color-mix(in srgb, var(--fd-brand) 18%, transparent); }
.send { flex: none; width: 40px; height: 40px; border: 0; border-radius: 12px; padding: 0;
  display: inline-flex; align-items: center; justify-content: center;
  background: var(--fd-brand); color: var(--fd-brand-ink); }
.send:disabled { opacity: .45; cursor: default; }
.send svg { width: 18px; height: 18px; }

.closed { flex: none; padding: 14px 16px 16px; background: #fff; border-top: 1px solid var(--fd-line);
  text-align: center; }
.closed .notice { margin: 0 0 10px; color: var(--fd-muted); font-size: 13px; font-weight: 600; }
.stars { display: inline-flex; gap: 4px; margin-bottom: 10px; }
.star { border: 0; background: transparent; padding: 2px; color: #c9ced9; }
.star svg { width: 28px; height: 28px; }
.star.on { color: #f59f00; }
.closed textarea { width: 100%; border: 1px solid var(--fd-line); border-radius: 10px;
  padding: 8px 10px; resize: none; margin-bottom: 10px; font-size: 13px; }
.closed .actions { display: flex; gap: 8px; justify-content: center; flex-wrap: wrap; }

.form { display: flex; flex-direction: column; gap: 12px; }
.form label { display: flex; flex-direction: column; gap: 4px; font-size: 13px; font-weight: 600; }
.form input { border: 1px solid var(--fd-line); border-radius: 10px; padding: 9px 12px;
  font-weight: 400; background: #fff; }
.form input:focus-visible, .closed textarea:focus-visible { outline: none; border-color: var(--fd-brand);
  box-shadow: 0 0 0 3px color-mix(in srgb, var(--fd-brand) 18%, transparent); }
.form .hint { font-size: 12px; color: var(--fd-muted); font-weight: 400; margin: 0; }

.error { flex: none; padding: 8px 14px; background: #fff0f0; color: var(--fd-danger);
  font-size: 13px; border-top: 1px solid #ffd8d8; }
.footer { flex: none; padding: 6px; text-align: center; font-size: 11px; color: #9aa1b1;
  background: #fff; border-top: 1px solid var(--fd-line); }
.empty { text-align: center; color: var(--fd-muted); font-size: 13px; padding: 8px 0 0; }

/* Files: attach button, uploads, thumbnails, file chips, the larger view */
.attach { flex: none; width: 40px; height: 40px; border: 0; border-radius: 12px; padding: 0;
  display: inline-flex; align-items: center; justify-content: center;
  background: transparent; color: var(--fd-muted); }
.attach:hover { background: var(--fd-soft); color: var(--fd-brand); }
.attach svg { width: 20px; height: 20px; }
.screen.drop-over { outline: 3px dashed var(--fd-brand); outline-offset: -6px; }
.thumb { display: block; border: 0; padding: 0; border-radius: 14px; overflow: hidden;
  background: #e9ecf3; box-shadow: 0 1px 2px rgba(20, 30, 60, .12); cursor: zoom-in; }
.thumb img { display: block; max-width: 220px; max-height: 220px; min-width: 48px; min-height: 48px;
  width: auto; height: auto; object-fit: cover; }
.thumb.broken { min-width: 120px; min-height: 60px; cursor: default; }
.thumb.broken img { visibility: hidden; }
.file-chip, .upload { display: flex; align-items: center; gap: 10px; padding: 9px 12px;
  border-radius: 14px; background: #fff; color: var(--fd-ink); text-decoration: none;
  box-shadow: 0 1px 2px rgba(20, 30, 60, .08); min-width: 180px; max-width: 100%; }
.file-chip:hover { background: #fafbff; }
.file-chip.broken { opacity: .6; }
.file-icon { flex: none; width: 36px; height: 36px; border-radius: 8px; display: inline-flex;
  align-items: center; justify-content: center; font-size: 10px; font-weight: 700;
  background: color-mix(in srgb, var(--fd-brand) 14%, white); color: var(--fd-brand); }
.file-text { display: flex; flex-direction: column; min-width: 0; flex: 1; }
.file-name { font-weight: 600; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.file-size { font-size: 12px; color: var(--fd-muted); }
.upload { flex-wrap: wrap; }
.upload .progress { flex-basis: 100%; height: 6px; border-radius: 3px; background: var(--fd-line);
  overflow: hidden; order: 3; }
.upload .bar { display: block; height: 100%; background: var(--fd-brand); transition: width .15s linear; }
.upload .cancel { flex: none; border: 0; background: transparent; color: var(--fd-danger);
  font-size: 12px; font-weight: 600; padding: 2px 4px; }
.upload.failed { background: #fff0f0; }
.upload.failed .file-size { color: var(--fd-danger); white-space: normal; }
.viewer { border: 0; padding: 0; background: transparent; max-width: 92vw; max-height: 92vh; overflow: visible; }
.viewer::backdrop { background: rgba(10, 14, 28, .78); }
.viewer figure { margin: 0; display: flex; flex-direction: column; align-items: center; gap: 8px; }
.viewer img { display: block; max-width: 92vw; max-height: 82vh; border-radius: 8px; background: #fff; }
.viewer figcaption { color: #fff; font-size: 13px; max-width: 80vw; overflow-wrap: anywhere; text-align: center; }
.viewer .viewer-close { position: fixed; top: 14px; right: 18px; width: 40px; height: 40px; border: 0;
  border-radius: 50%; background: rgba(255, 255, 255, .16); color: #fff; font-size: 26px; line-height: 1; }
.viewer-error { color: #fff; }

@media (max-width: 480px) {
  .panel { inset: 0; width: auto; height: auto; border-radius: 0; bottom: 0; right: 0; }
  .fd.left .panel { left: 0; }
  .fd.open .launcher { display: none; }
  .msg { max-width: 88%; }
  .composer textarea { font-size: 16px; }
}
@media (prefers-reduced-motion: reduce) {
  .panel, .typing span, .launcher { animation: none; transition: none; }
}
/* Trust tiers: e-mail codes, verification requests, opening hours, system lines */
.trust-slot { flex: none; max-height: 55%; overflow-y: auto; padding: 0 12px; background: var(--fd-soft); }
.trust-slot .card { margin: 0 0 10px; }
.verify h3, .hours h3, .verify-request h3 { display: flex; align-items: center; gap: 8px; }
.verify-form { display: flex; gap: 8px; }
.verify-form input { flex: 1; min-width: 0; border: 1px solid var(--fd-line); border-radius: 10px;
  padding: 9px 12px; background: #fff; font-size: 14px; }
.verify-form input[name="code"] { letter-spacing: .3em; font-variant-numeric: tabular-nums; font-size: 16px; }
.verify-form input:focus-visible { outline: none; border-color: var(--fd-brand);
  box-shadow: 0 0 0 3px color-mix(in srgb, var(--fd-brand) 18%, transparent); }
.verify-form .primary:disabled { opacity: .6; cursor: default; }
.fd .verify .primary, .fd .verify-request .primary { color: var(--fd-brand-ink); }
.verify .verify-error { margin: 8px 0 0; color: var(--fd-danger); font-size: 13px; }
.verify > p:last-child { margin-bottom: 0; }
.verify p strong { color: var(--fd-ink); overflow-wrap: anywhere; }
.verify-links { display: flex; justify-content: space-between; gap: 8px; margin-top: 10px; }
.fd .link { border: 0; background: none; padding: 0; color: var(--fd-brand); font-size: 13px; font-weight: 600; }
.fd .link:hover { text-decoration: underline; }
.fd .link:disabled { color: var(--fd-muted); cursor: default; text-decoration: none; }
.verify-done .tick { display: inline-flex; align-items: center; justify-content: center; width: 22px; height: 22px;
  border-radius: 50%; background: #2f9e44; color: #fff; font-size: 13px; }
.verify[data-verify="done"] { border-left: 4px solid #2f9e44; }
.verify-request { border-left: 4px solid var(--fd-brand); }
.verify-request .verify-host { color: var(--fd-ink); }
.hours { border-left: 4px solid #f59f00; }
.hours .hours-dot { width: 10px; height: 10px; border-radius: 50%; background: #f59f00; }
.hours-closed .hours-dot { background: #868e96; }
.hours-closed { border-left-color: #868e96; }
.hours p { margin-bottom: 8px; }
.hours .secondary { margin-top: 4px; }
.hours-notice { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: 6px;
  margin: 0 0 10px; padding: 8px 12px; border-radius: 10px; background: #fff8e6; color: #7a4b00; font-size: 12.5px; }
.continuity-error { border-left: 4px solid var(--fd-danger); }
.continuity-error h3 { color: var(--fd-danger); }
.msg.system { align-self: center; max-width: 92%; margin: 6px 0; }
.system-line { display: block; padding: 4px 12px; border-radius: 999px; background: #e9ecf3;
  color: var(--fd-muted); font-size: 12px; text-align: center; }
`;
