// Applies the live table's poll results to the grid (a Dash clientside callback).
// The grid uses AG Grid's infinite row model, which takes no row transactions:
// changed rows of the shown page are set in place, and a page whose rows changed
// (a new task, a filter's rows moving) is fetched again from the server.
window.dash_clientside = window.dash_clientside || {};
window.dash_clientside.taskGrid = {
    apply: function (updates, gridId) {
        if (!updates) {
            return window.dash_clientside.no_update;
        }
        var api = dash_ag_grid.getApi(gridId);
        if (!api) {
            return window.dash_clientside.no_update;
        }
        if (updates.refetch) {
            api.refreshInfiniteCache();
        } else {
            updates.rows.forEach(function (row) {
                var node = api.getRowNode(String(row.id));
                if (node) {
                    node.setData(row);
                }
            });
        }
        return updates.revision;
    },
};
