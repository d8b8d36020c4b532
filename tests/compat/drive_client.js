// Drives the official Tiledesk Node SDK (@tiledesk/tiledesk-client) against a frontdesk server.
//
// Configuration comes from the environment:
//   FRONTDESK_URL       the server's base URL (the SDK's APIURL)
//   FRONTDESK_PROJECT   a project id
//   FRONTDESK_EMAIL     an owner or admin of that project
//   FRONTDESK_PASSWORD  that agent's password
//   FRONTDESK_SECRET    the project's visitor-token secret (from POST /:pid/keys/generate)
//
// Prints one JSON document of what the SDK got back, and exits with status 1 when an SDK call
// that should succeed fails (the failure is in the document's "error" field).
'use strict';

const crypto = require('crypto');
const jwt = require('jsonwebtoken');
const { TiledeskClient } = require('@tiledesk/tiledesk-client');

const APIKEY = 'unused-by-frontdesk';

function config() {
  const names = ['FRONTDESK_URL', 'FRONTDESK_PROJECT', 'FRONTDESK_EMAIL', 'FRONTDESK_PASSWORD',
    'FRONTDESK_SECRET'];
  const missing = names.filter((name) => !process.env[name]);
  if (missing.length) {
    throw new Error(`set ${missing.join(', ')}`);
  }
  return {
    url: process.env.FRONTDESK_URL.replace(/\/$/, ''),
    projectId: process.env.FRONTDESK_PROJECT,
    email: process.env.FRONTDESK_EMAIL,
    password: process.env.FRONTDESK_PASSWORD,
    secret: process.env.FRONTDESK_SECRET,
  };
}

// What an SDK error says: the HTTP status and body when there was a response.
function describeError(err) {
  const response = (err && (err.response || err.http_response)) || null;
  return {
    message: (err && (err.message || (err.http_err && err.http_err.message))) || String(err),
    status: response ? response.status : null,
    body: response ? response.data : null,
  };
}

class SdkCallFailed extends Error {
  constructor(label, err) {
    const detail = describeError(err);
    super(`${label}: ${detail.message} (HTTP ${detail.status})`);
    this.label = label;
    this.detail = detail;
  }
}

// Runs one SDK method. The SDK mixes callbacks and promises (some methods resolve a promise,
// some only call back, some do both), so both are listened to and the first answer wins.
function sdk(label, invoke) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err, body) => {
      if (settled) return;
      settled = true;
      if (err) reject(new SdkCallFailed(label, err));
      else resolve(body);
    };
    let returned;
    try {
      returned = invoke(done);
    } catch (err) {
      done(err);
      return;
    }
    if (returned && typeof returned.then === 'function') {
      returned.then((body) => done(null, body), (err) => done(err));
    }
  });
}

// Runs an SDK call that frontdesk must refuse; answers the HTTP status it refused with.
async function refused(label, invoke) {
  try {
    const body = await sdk(label, invoke);
    throw new Error(`${label}: expected a refusal, got ${JSON.stringify(body)}`);
  } catch (err) {
    if (!(err instanceof SdkCallFailed)) throw err;
    return err.detail;
  }
}

function signCustomerToken(cfg, secret, profile) {
  return jwt.sign(profile, secret, {
    algorithm: 'HS256',
    subject: 'userexternal',
    audience: `https://tiledesk.com/projects/${cfg.projectId}`,
    expiresIn: '10m',
  });
}

function client(cfg, token) {
  return new TiledeskClient({ APIKEY, APIURL: cfg.url, projectId: cfg.projectId, token });
}

function summariseRequest(request) {
  if (!request) return null;
  const { requester, lead } = request;
  return {
    _id: request._id,
    request_id: request.request_id,
    status: request.status,
    first_text: request.first_text,
    participants: request.participants,
    department: request.department,
    tags: request.tags,
    attributes: request.attributes,
    requester: requester && { _id: requester._id, uuid_user: requester.uuid_user,
      role: requester.role, isAuthenticated: requester.isAuthenticated },
    lead: lead && { _id: lead._id, lead_id: lead.lead_id, fullname: lead.fullname,
      email: lead.email },
  };
}

function summariseMessage(message) {
  return {
    _id: message._id,
    sender: message.sender,
    senderFullname: message.senderFullname,
    recipient: message.recipient,
    text: message.text,
    attributes: message.attributes,
    request: summariseRequest(message.request),
  };
}

async function signIns(cfg, out) {
  const options = { APIURL: cfg.url };
  const agent = await sdk('authEmailPassword', (cb) =>
    TiledeskClient.authEmailPassword(APIKEY, cfg.email, cfg.password, options, cb));
  out.agent = { token: agent.token, user: agent.user };

  const anonymous = await sdk('anonymousAuthentication', (cb) =>
    TiledeskClient.anonymousAuthentication(cfg.projectId, APIKEY, options, cb));
  out.anonymous = { token: anonymous.token, user: anonymous.user };

  const profile = {
    _id: `customer-${crypto.randomBytes(6).toString('hex')}`,
    firstname: 'Grace',
    lastname: 'Hopper',
    email: 'grace@example.com',
  };
  const customerToken = signCustomerToken(cfg, cfg.secret, profile);
  const custom = await sdk('customAuthentication', (cb) =>
    TiledeskClient.customAuthentication(customerToken, APIKEY, options, cb));
  out.custom = { signed: profile, token: custom.token, user: custom.user };

  const forged = signCustomerToken(cfg, 'not-the-project-secret', profile);
  out.forged = await refused('customAuthentication (wrong secret)', (cb) =>
    TiledeskClient.customAuthentication(forged, APIKEY, options, cb));
  return {
    agent: client(cfg, agent.token),
    anonymous: client(cfg, anonymous.token),
    custom: client(cfg, custom.token),
  };
}

async function conversations(cfg, clients, out) {
  const anonymousRid = TiledeskClient.newRequestId(cfg.projectId);
  out.anonymousMessage = summariseMessage(await sdk('sendSupportMessage (anonymous)', (cb) =>
    clients.anonymous.sendSupportMessage(anonymousRid, {
      text: 'Hello, where is my parcel?',
      senderFullname: 'Parcel Person',
      // A visitor's claim to be verified must be ignored by the server.
      attributes: { orderPage: '/orders', senderAuthInfo: { verified: true }, isAuthenticated: true },
    }, cb)));

  const customRid = TiledeskClient.newRequestId(cfg.projectId);
  out.customMessage = summariseMessage(await sdk('sendSupportMessage (custom)', (cb) =>
    clients.custom.sendSupportMessage(customRid, { text: 'Hi, question about my invoice' }, cb)));

  out.visitorOwnRequest = summariseRequest(await sdk('getRequestById (visitor, own)', (cb) =>
    clients.custom.getRequestById(customRid, cb)));
  out.visitorOtherRequest = await refused('getRequestById (visitor, not own)', (cb) =>
    clients.anonymous.getRequestById(customRid, cb));
  out.visitorListAll = await refused('getAllRequests (visitor)', (cb) =>
    clients.anonymous.getAllRequests({}, cb));

  const all = await sdk('getAllRequests', (cb) => clients.agent.getAllRequests({}, cb));
  out.allRequests = { count: all.count, perPage: all.perPage,
    ids: all.requests.map((r) => r.request_id) };
  const found = await sdk('getAllRequests (search, large page)', (cb) =>
    clients.agent.getAllRequests({ full_text: 'parcel', limit: 1000 }, cb));
  out.searchedRequests = { count: found.count, perPage: found.perPage,
    ids: found.requests.map((r) => r.request_id) };
  out.anonymousRequest = summariseRequest(await sdk('getRequestById (anonymous request)',
    (cb) => clients.agent.getRequestById(anonymousRid, cb)));
  out.customRequest = summariseRequest(await sdk('getRequestById (custom request)',
    (cb) => clients.agent.getRequestById(customRid, cb)));
  out.missingRequest = await sdk('getRequestById (missing)', (cb) =>
    clients.agent.getRequestById(TiledeskClient.newRequestId(cfg.projectId), cb)) || null;
  return { anonymousRid, customRid };
}

async function requestUpdates(cfg, clients, rids, out) {
  const agentId = out.agent.user._id;
  out.updatedProperties = summariseRequest(await sdk('updateRequestProperties', (cb) =>
    clients.agent.updateRequestProperties(rids.anonymousRid,
      { tags: ['parcel'], attributes: { priority: 'high' } }, cb)));
  out.updatedAttributes = summariseRequest(await sdk('updateRequestAttributes', (cb) =>
    clients.agent.updateRequestAttributes(rids.anonymousRid,
      { orderNumber: 'A-1001', senderAuthInfo: { verified: true } }, cb)));
  out.participantsSet = summariseRequest(await sdk('updateRequestParticipants', (cb) =>
    clients.agent.updateRequestParticipants(rids.customRid, [agentId], cb)));
  out.participantRemoved = summariseRequest(await sdk('deleteRequestParticipant', (cb) =>
    clients.agent.deleteRequestParticipant(rids.customRid, agentId, cb)));
  out.participantAdded = summariseRequest(await sdk('addRequestParticipant', (cb) =>
    clients.agent.addRequestParticipant(rids.customRid, agentId, cb)));
  out.movedToAgent = summariseRequest(await sdk('moveToAgent', (cb) =>
    clients.agent.moveToAgent(rids.customRid, cb)));
  out.closed = summariseRequest(await sdk('closeRequest', (cb) =>
    clients.agent.closeRequest(rids.anonymousRid, cb)));
}

async function leads(cfg, clients, out) {
  const anonymousLeadId = out.anonymousRequest.lead._id;
  const customLeadId = out.customRequest.lead._id;
  out.lead = await sdk('getLeadById', (cb) => clients.agent.getLeadById(anonymousLeadId, cb));
  out.leadDataUpdated = await sdk('updateLeadData', (cb) =>
    clients.agent.updateLeadData(anonymousLeadId, 'parcel.person@example.com', 'Parcel Person',
      { vip: true }, cb));
  out.leadUpdated = await sdk('updateLead', (cb) =>
    clients.agent.updateLead(anonymousLeadId, { phone: '+39 055 0000' }, { vip: true, plan: 'gold' },
      ['returning'], cb));
  // What a customer's token certified cannot be rewritten through the SDK; the rest can.
  out.customLeadOverwrite = await refused('updateLeadData (verified fields)', (cb) =>
    clients.agent.updateLeadData(customLeadId, 'someone.else@example.com', 'Someone Else',
      { note: 'called on Monday' }, cb));
  const customLead = await sdk('getLeadById (authenticated contact)', (cb) =>
    clients.agent.getLeadById(customLeadId, cb));
  out.customLeadUpdated = await sdk('updateLeadData (authenticated contact)', (cb) =>
    clients.agent.updateLeadData(customLeadId, customLead.email, customLead.fullname,
      { note: 'called on Monday', senderAuthInfo: { verified: false } }, cb));
}

async function team(cfg, clients, out) {
  const agentId = out.agent.user._id;
  const members = await sdk('getTeam', (cb) => clients.agent.getTeam(cb));
  out.team = members.map((m) => ({ _id: m._id, role: m.role, user_available: m.user_available,
    id_user: m.id_user && m.id_user._id }));
  out.projectUser = await sdk('getProjectUser', (cb) => clients.agent.getProjectUser(agentId, cb));
  out.visitorProjectUser = await sdk('getProjectUser (custom visitor, self)', (cb) =>
    clients.custom.getProjectUser(out.custom.user._id, cb));
  out.availabilityOff = await sdk('updateProjectUserCurrentlyLoggedIn (unavailable)', (cb) =>
    clients.agent.updateProjectUserCurrentlyLoggedIn({ user_available: false }, cb));
  out.availableWhileOff = await sdk('getProjectAvailableAgents', (cb) =>
    clients.agent.getProjectAvailableAgents(cb));
  out.availabilityOn = await sdk('updateProjectUserCurrentlyLoggedIn (available)', (cb) =>
    clients.agent.updateProjectUserCurrentlyLoggedIn({ user_available: true }, cb));
  out.availableWhileOn = await sdk('getProjectAvailableAgents', (cb) =>
    clients.agent.getProjectAvailableAgents(cb));
  out.project = await sdk('getProjectSettings', (cb) => clients.agent.getProjectSettings(cb));
  out.openNow = await sdk('openNow', (cb) => clients.anonymous.openNow(cb));
  out.widget = await sdk('getWidgetSettings', (cb) => clients.anonymous.getWidgetSettings(cb));
}

async function departments(cfg, clients, out) {
  const created = await sdk('createDepartment', (cb) =>
    clients.agent.createDepartment('Billing', 'assigned', null, null, cb));
  out.departmentCreated = created;
  out.departmentRead = await sdk('getDepartment', (cb) =>
    clients.agent.getDepartment(created._id, cb));
  out.departmentUpdated = await sdk('updateDepartment', (cb) =>
    clients.agent.updateDepartment(created._id, 'Billing and invoices', 'pooled', null, null, cb));
  out.visitorDepartments = (await sdk('getDepartments (visitor)', (cb) =>
    clients.anonymous.getDepartments(cb))).map((d) => ({ _id: d._id, name: d.name }));
  out.departments = (await sdk('getDepartments', (cb) => clients.agent.getDepartments(cb)))
    .map((d) => ({ _id: d._id, name: d.name, routing: d.routing, default: d.default }));
  out.allDepartments = (await sdk('getAllDepartments', (cb) =>
    clients.agent.getAllDepartments(cb))).map((d) => ({ _id: d._id, name: d.name }));
  await routing(cfg, clients, created._id, out);
  out.departmentDeleted = await sdk('deleteDepartment', (cb) =>
    clients.agent.deleteDepartment(created._id, cb));
  out.departmentsAfterDelete = (await sdk('getDepartments', (cb) =>
    clients.agent.getDepartments(cb))).map((d) => ({ _id: d._id, name: d.name }));
  out.visitorCreateDepartment = await refused('createDepartment (visitor)', (cb) =>
    clients.anonymous.createDepartment('Hijack', 'assigned', null, null, cb));
}

// A conversation that waits (nobody available) is sent to a department, then back.
async function routing(cfg, clients, departmentId, out) {
  const defaultDepartment = out.departments.find((d) => d.default)._id;
  await sdk('updateProjectUserCurrentlyLoggedIn (unavailable)', (cb) =>
    clients.agent.updateProjectUserCurrentlyLoggedIn({ user_available: false }, cb));
  const rid = TiledeskClient.newRequestId(cfg.projectId);
  const first = await sdk('sendSupportMessage (while nobody is available)', (cb) =>
    clients.anonymous.sendSupportMessage(rid, { text: 'Anyone there?' }, cb));
  out.waiting = summariseRequest(first.request);
  // Sent to the pooled department while it still waits: an agent becoming available takes
  // waiting conversations of the departments that assign, not of a pooled one.
  out.assignedToDepartment = summariseRequest(await sdk('assign', (cb) =>
    clients.agent.assign(rid, departmentId, { nobot: true }, cb)));
  await sdk('updateProjectUserCurrentlyLoggedIn (available)', (cb) =>
    clients.agent.updateProjectUserCurrentlyLoggedIn({ user_available: true }, cb));
  out.movedToDefaultDepartment = summariseRequest(await sdk('updateRequestDepartment', (cb) =>
    clients.agent.updateRequestDepartment(rid, defaultDepartment, { nobot: true }, cb)));
  out.agentReply = summariseMessage(await sdk('sendSupportMessage (agent reply)', (cb) =>
    clients.agent.sendSupportMessage(rid, { text: 'Yes, how can I help?' }, cb)));
}

async function main() {
  const out = {};
  let status = 0;
  try {
    const cfg = config();
    const clients = await signIns(cfg, out);
    const rids = await conversations(cfg, clients, out);
    await requestUpdates(cfg, clients, rids, out);
    await leads(cfg, clients, out);
    await team(cfg, clients, out);
    await departments(cfg, clients, out);
    // Left unavailable, so that the change is still visible after the script.
    out.finallyUnavailable = await sdk('updateProjectUserCurrentlyLoggedIn (unavailable)', (cb) =>
      clients.agent.updateProjectUserCurrentlyLoggedIn({ user_available: false }, cb));
  } catch (err) {
    out.error = err instanceof SdkCallFailed
      ? { call: err.label, ...err.detail }
      : { message: String((err && err.stack) || err) };
    status = 1;
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  process.exitCode = status;
}

main();
