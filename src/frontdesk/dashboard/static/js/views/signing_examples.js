// Copy-paste examples of signing a visitor token on the customer's server.

import { copyText, h } from "../dom.js";

function python(pid, kid) {
  return `# pip install PyJWT
import os, time
import jwt

def frontdesk_token(user):
    """A token that tells frontdesk who this logged-in customer is (valid 10 minutes)."""
    now = int(time.time())
    claims = {
        "sub": "userexternal",
        "aud": "https://tiledesk.com/projects/${pid}",
        "_id": str(user.id),
        "firstname": user.first_name,
        "lastname": user.last_name,
        "email": user.email,
        "iat": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, os.environ["FRONTDESK_SECRET"], algorithm="HS256"${kid ? `,
                      headers={"kid": "${kid}"}` : ""})`;
}

function node(pid, kid) {
  return `// npm install jsonwebtoken
const jwt = require("jsonwebtoken");

function frontdeskToken(user) {
  // A token that tells frontdesk who this logged-in customer is (valid 10 minutes).
  return jwt.sign(
    { sub: "userexternal", _id: String(user.id), firstname: user.firstName,
      lastname: user.lastName, email: user.email },
    process.env.FRONTDESK_SECRET,
    { algorithm: "HS256", audience: "https://tiledesk.com/projects/${pid}", expiresIn: "10m"${kid ? `,
      keyid: "${kid}"` : ""} }
  );
}`;
}

const BROWSER = `// In the page, once your customer is logged in:
window.frontdesk.signInWithCustomToken(tokenFromYourServer);`;

export function signingExamples(pid, kid) {
  const samples = [["python", "Python", python(pid, kid)], ["node", "Node.js", node(pid, kid)],
    ["browser", "In the page", BROWSER]];
  const blocks = samples.map(([key, , code]) => {
    const copy = h("button", { class: "btn btn-small", type: "button", onClick: () => copyText(code, copy) }, "Copy");
    return h("div", { class: "code-block", dataset: { sample: key }, hidden: key !== "python" },
      h("pre", {}, h("code", {}, code)), copy);
  });
  const tabs = samples.map(([key, label], i) => h("button", { type: "button", role: "tab", class: "tab",
    "aria-selected": String(i === 0), dataset: { sample: key }, onClick: () => {
      tabs.forEach((tab, j) => tab.setAttribute("aria-selected", String(i === j)));
      blocks.forEach((block, j) => { block.hidden = i !== j; });
    } }, label));
  return h("div", { class: "examples" },
    h("div", { class: "tabs tabs-inline", role: "tablist" }, tabs), blocks,
    h("p", { class: "muted" }, "Keep the secret on your server (here in FRONTDESK_SECRET); never put it in a page."));
}
