// The REST calls the widget makes, in frontdesk's Tiledesk dialect.
// Every failure becomes an ApiError with the HTTP status (0: server unreachable) and the
// machine-readable `code` from the server's error body.

export class ApiError extends Error {
  constructor(status, code, message, details = null) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

const AUTH_SCHEME = /^(jwt|bearer)\s+/i;

export class Api {
  constructor(serverUrl, projectId) {
    this.serverUrl = serverUrl;
    this.projectId = projectId;
  }

  async call(method, path, { token, body } = {}) {
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (token) headers.Authorization = AUTH_SCHEME.test(token) ? token : "JWT " + token;
    let response;
    try {
      response = await fetch(this.serverUrl + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (error) {
      throw new ApiError(0, "network_error", "the chat server cannot be reached");
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      throw new ApiError(response.status, data?.code ?? "http_error",
        data?.message ?? response.statusText, data?.details ?? null);
    }
    return data;
  }

  projectPath(rest) {
    return `/${encodeURIComponent(this.projectId)}${rest}`;
  }

  widgetConfig() {
    return this.call("GET", this.projectPath("/widgets"));
  }

  signInAnonymously(profile) {
    return this.call("POST", "/auth/signinAnonymously",
      { body: { id_project: this.projectId, ...profile } });
  }

  // A customer-signed JWT, or one of our own session tokens to refresh it. With the live
  // anonymous session of this browser as a second proof, the server merges that visitor's
  // conversations into the signed-in contact (and ends the anonymous session).
  signInWithToken(token, anonymousToken) {
    const body = anonymousToken ? { anonymous_token: anonymousToken } : undefined;
    return this.call("POST", "/auth/signinWithCustomToken", { token, body });
  }

  logout(token) {
    return this.call("POST", "/auth/logout", { token });
  }

  myRequests(token) {
    return this.call("GET", this.projectPath("/requests/me?limit=50"), { token });
  }

  request(token, rid) {
    return this.call("GET", this.projectPath(`/requests/${encodeURIComponent(rid)}`), { token });
  }

  messages(token, rid, after) {
    const query = after ? `?after=${encodeURIComponent(after)}&limit=500` : "?limit=500";
    return this.call("GET",
      this.projectPath(`/requests/${encodeURIComponent(rid)}/messages${query}`), { token });
  }

  sendMessage(token, rid, body) {
    return this.call("POST",
      this.projectPath(`/requests/${encodeURIComponent(rid)}/messages`), { token, body });
  }

  uploadUrl() {
    return this.serverUrl + this.projectPath("/files/chat");
  }

  // A stored file (path `/<project>/files/<id>`) with URLs signed for this visitor.
  signedFile(token, path) {
    return this.call("GET", path, { token });
  }

  closeRequest(token, rid) {
    return this.call("PUT", this.projectPath(`/requests/${encodeURIComponent(rid)}/closeg`),
      { token });
  }

  rate(token, rid, rating, ratingMessage) {
    return this.call("PATCH", this.projectPath(`/requests/${encodeURIComponent(rid)}/rating`),
      { token, body: { rating, rating_message: ratingMessage } });
  }
}
