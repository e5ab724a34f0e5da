// kitgate console: live status and output over Server-Sent Events.
// Rules: every value from the server is set with textContent or createTextNode, never innerHTML;
// no eval, no inline handlers (the CSP forbids them anyway).
"use strict";

(function () {
  var NEXT_STATUS = {
    created: null, approval_needed: "pending_approval", approved: "queued", requeued: "queued",
    claimed: "running", started: "running", rejected: "rejected"
  };

  function statusOf(ev) {
    if (ev.type === "finished" || ev.type === "created") { return ev.data && ev.data.status; }
    return NEXT_STATUS[ev.type] || null;
  }

  function setBadge(el, status) {
    if (!el || !status) { return; }
    el.textContent = status;
    el.className = el.className.replace(/\bs-[a-z_]+/g, "").trim() + " s-" + status.replace(/[^a-z_]/g, "");
  }

  function live(url, onEvent) {
    var dot = document.getElementById("live-state");
    var source = new EventSource(url);
    source.addEventListener("open", function () { if (dot) { dot.classList.add("on"); } });
    source.addEventListener("error", function () { if (dot) { dot.classList.remove("on"); } });
    source.addEventListener("job", function (message) {
      var ev;
      try { ev = JSON.parse(message.data); } catch (e) { return; }
      if (ev && typeof ev === "object") { onEvent(ev, source); }
    });
    return source;
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) { td.className = cls; }
    if (text !== undefined && text !== null) { td.textContent = String(text); }
    tr.appendChild(td);
    return td;
  }

  function newRow(ev) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-job-id", ev.job_id);
    tr.className = "fresh";
    var link = document.createElement("a");
    link.className = "mono";
    link.href = "/console/jobs/" + encodeURIComponent(ev.job_id);
    link.textContent = ev.job_id;
    cell(tr).appendChild(link);
    var badge = document.createElement("span");
    badge.className = "badge";
    badge.setAttribute("data-role", "status");
    setBadge(badge, (ev.data && ev.data.status) || "queued");
    cell(tr).appendChild(badge);
    cell(tr, ev.data && ev.data.policy, "nowrap");
    cell(tr, ev.owner, "owner");
    var labels = cell(tr);
    ((ev.data && ev.data.labels) || []).forEach(function (label) {
      var tag = document.createElement("span");
      tag.className = "tag";
      tag.textContent = String(label);
      labels.appendChild(tag);
    });
    cell(tr, new Date(ev.at * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC", "nowrap");
    cell(tr, "", "mono").setAttribute("data-role", "worker");
    cell(tr, "", "err");
    return tr;
  }

  function jobList(tbody) {
    live("/console/events", function (ev) {
      if (!ev.job_id) { return; }
      var row = null;
      tbody.querySelectorAll("tr[data-job-id]").forEach(function (tr) {
        if (tr.getAttribute("data-job-id") === ev.job_id) { row = tr; }
      });
      if (!row && ev.type === "created" && tbody.getAttribute("data-filtered") !== "1") {
        var empty = tbody.querySelector("tr.empty");
        if (empty) { empty.remove(); }
        tbody.insertBefore(newRow(ev), tbody.firstChild);
        return;
      }
      if (!row) { return; }
      setBadge(row.querySelector("[data-role=status]"), statusOf(ev));
      if (ev.data && ev.data.worker) { row.querySelector("[data-role=worker]").textContent = String(ev.data.worker); }
    });
  }

  function jobPage(output) {
    var jobId = output.getAttribute("data-job");
    var after = output.getAttribute("data-after") || "";
    var badge = document.getElementById("job-status");
    var url = "/console/events?job=" + encodeURIComponent(jobId) + "&after=" + encodeURIComponent(after);
    live(url, function (ev, source) {
      if (ev.job_id !== jobId) { return; }
      if (ev.type === "output" && ev.data) {
        output.appendChild(document.createTextNode(String(ev.data.text || "")));
        output.scrollTop = output.scrollHeight;
        return;
      }
      setBadge(badge, statusOf(ev));
      if (ev.data && ev.data.worker) {
        var worker = document.getElementById("job-worker");
        if (worker) { worker.textContent = String(ev.data.worker); }
      }
      if (ev.type === "finished" || ev.type === "rejected" || ev.type === "approved") {
        // the final value, changed prims and timings are rendered by the server
        source.close();
        window.setTimeout(function () { window.location.reload(); }, 250);
      }
    });
  }

  function approvalQueue(notice) {
    live("/console/events", function (ev) {
      if (ev.type === "approval_needed") { notice.classList.remove("hidden"); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var tbody = document.getElementById("jobs");
    if (tbody && tbody.getAttribute("data-live") === "1") { jobList(tbody); }
    var output = document.getElementById("output");
    if (output && output.getAttribute("data-live") === "1") { jobPage(output); }
    var notice = document.getElementById("new-approvals");
    if (notice) { approvalQueue(notice); }
  });
})();
