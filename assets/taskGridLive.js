// Live updates pushed by the server (server-sent events from live/): the task table's shown rows change as the
// tasks do, with no poll. Every page gets the same events; each applies what concerns the rows it shows and
// fetches its page again when the page's rows would change (a new task, a row entering or leaving a filter),
// after a random pause of up to a second, so a crowd of pages does not ask all at once.
// While the stream is not open (blocked by a proxy, or a server without it) the page polls as before.
window.dash_clientside = window.dash_clientside || {};
(function () {
    var live = {source: null, gridId: null, shown: null, refetchTimer: null};

    function grid() {
        return live.gridId && window.dash_ag_grid ? dash_ag_grid.getApi(live.gridId) : null;
    }

    function polling(on) {
        dash_clientside.set_props("tasks-refresh", {disabled: !on});
    }

    function refetchSoon() {
        if (live.refetchTimer === null) {
            live.refetchTimer = setTimeout(function () {
                live.refetchTimer = null;
                var api = grid();
                if (api) {
                    api.refreshInfiniteCache();
                }
            }, Math.random() * 1000);
        }
    }

    function say(text) {
        var region = document.getElementById("own-tasks-spoken");
        if (region) {
            region.textContent = text;
        }
    }

    function apply(message) {
        var api = grid();
        if (!api || !live.shown) {
            return;
        }
        var context = api.getGridOption("context") || {};
        var query = live.shown.query || {};
        var statuses = query.statuses;
        var newest = Math.max.apply(null, [0].concat(live.shown.ids || []));
        var said = [];
        message.tasks.forEach(function (task) {
            var labels = task.labels[context.locale] || task.labels.en;
            var node = api.getRowNode(String(task.id));
            if (node && node.data) {
                var row = Object.assign({}, node.data, task, labels, {mine: node.data.mine});
                delete row.labels;
                var sentence = window.dash_clientside.taskGrid.spoken(context, node.data, row);
                if (sentence) {
                    said.push(sentence);
                }
                if (statuses && statuses.indexOf(row.status) < 0) {
                    refetchSoon(); // it leaves the filtered page
                }
                node.setData(row);
            } else if (task.id > newest && (!statuses || statuses.indexOf(task.status) >= 0)) {
                refetchSoon(); // a new task: the shown page's rows move
            } else if (statuses && statuses.indexOf(task.status) >= 0) {
                refetchSoon(); // it may enter the filtered page
            }
        });
        if (said.length) {
            say(said.join(" "));
        }
    }

    function connect(url, since) {
        var source = new EventSource(url + (url.indexOf("?") < 0 ? "?" : "&") + "since=" + since);
        source.onopen = function () {
            polling(false);
        };
        source.onerror = function () {
            polling(true); // it reconnects by itself (with Last-Event-ID); until then, the poll
        };
        source.onmessage = function (event) {
            if (!grid()) {
                source.close(); // the table is no longer on the page
                live.source = null;
                return;
            }
            apply(JSON.parse(event.data));
        };
        source.addEventListener("reset", function () {
            var api = grid();
            if (api) {
                api.refreshInfiniteCache(); // too far behind to catch up change by change
            }
        });
        return source;
    }

    window.dash_clientside.taskGridLive = {
        // Called with the page the grid shows each time it fetched one; returns whether the poll stays off.
        follow: function (shown, gridId) {
            live.gridId = gridId;
            live.shown = shown;
            var api = grid();
            var url = api && (api.getGridOption("context") || {}).events;
            if (!url || typeof EventSource === "undefined" || !shown) {
                return false;
            }
            if (live.source === null) {
                live.source = connect(url, shown.revision);
            }
            return live.source.readyState === EventSource.OPEN;
        },
    };
})();
