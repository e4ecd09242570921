// A running task's page, live: server-sent events (live/) tell it when its task changed, and it asks the
// server for its new state then (within half a second, each page at its own moment) instead of on the next
// poll; the running task's moving estimate ("progress" events) moves its bar here, with no request. While the
// stream is open the poll waits half a minute (a safety net); when it breaks, the page polls until it is back.
// The stream closes once the task has finished, or the page shows something else.
window.dash_clientside = window.dash_clientside || {};
(function () {
    var page = {source: null, taskId: null, refreshes: 0, timer: null};
    var FINISHED = ["done", "error", "cancelled"];

    function polling(milliseconds) {
        dash_clientside.set_props("task-refresh", {interval: milliseconds});
    }

    function close() {
        if (page.source !== null) {
            page.source.close();
            page.source = null;
        }
    }

    function refreshSoon() {
        if (page.timer === null) {
            page.timer = setTimeout(function () {
                page.timer = null;
                page.refreshes += 1;
                dash_clientside.set_props("task-refresh", {n_intervals: 1000000 + page.refreshes});
            }, Math.random() * 500);
        }
    }

    function ours(event) {
        var tasks = JSON.parse(event.data).tasks;
        for (var i = 0; i < tasks.length; i++) {
            if (tasks[i].id === page.taskId) {
                return tasks[i];
            }
        }
        return null;
    }

    // The bar as the server draws it (dashboard/task_view.py), from a pushed row.
    function moveBar(task) {
        var bar = document.querySelector("#task-status .progress-bar");
        var labels = task.labels[document.documentElement.lang] || task.labels.en;
        if (!bar || !labels.phase_label) {
            return;
        }
        var percent = Math.round(task.progress * 100);
        var label = labels.phase_label + " · " + (task.progress_is_estimate ? "≈" : "") + percent + "%";
        bar.style.width = percent + "%";
        bar.textContent = label;
        bar.parentNode.setAttribute("aria-valuenow", percent);
        bar.parentNode.setAttribute("aria-label", label);
    }

    window.dash_clientside.taskPageLive = {
        follow: function (events, taskId) {
            var nothing = window.dash_clientside.no_update;
            if (page.taskId !== taskId) {
                close(); // another task's page now
            }
            if (!events || typeof EventSource === "undefined" || page.source !== null) {
                return nothing;
            }
            page.taskId = taskId;
            var url = events.url + (events.url.indexOf("?") < 0 ? "?" : "&") + "since=" + events.revision;
            var source = new EventSource(url);
            source.onopen = function () {
                polling(30000);
            };
            source.onerror = function () {
                polling(events.pollMs);
                if (source.readyState === EventSource.CLOSED) {
                    page.source = null; // refused: the poll carries on
                }
            };
            function onPage() {
                if (!document.getElementById("task-status")) {
                    close(); // the page shows something else now
                    return false;
                }
                return true;
            }
            source.onmessage = function (event) {
                var task = onPage() && ours(event);
                if (task) {
                    refreshSoon();
                    if (FINISHED.indexOf(task.status) >= 0) {
                        close(); // nothing more will change
                    }
                }
            };
            source.addEventListener("progress", function (event) {
                var task = onPage() && ours(event);
                if (task) {
                    moveBar(task);
                }
            });
            source.addEventListener("reset", function () {
                if (onPage()) {
                    refreshSoon();
                }
            });
            page.source = source;
            return nothing;
        },
    };
})();
