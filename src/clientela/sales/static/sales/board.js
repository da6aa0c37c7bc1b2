/* The deal board: cards are dragged between and within columns (SortableJS); each drop posts to the
   deal's move endpoint through htmx. The answer refreshes the column totals and the card; a refusal
   (422, 409) puts the card back where it was and shows the reason. */
(function () {
  "use strict";
  const pending = new WeakMap();

  function cards(list) {
    return Array.from(list.children).filter((el) => el.classList.contains("deal-card"));
  }

  function snapBack(move) {
    const rest = cards(move.from).filter((card) => card !== move.item);
    move.from.insertBefore(move.item, rest[move.oldIndex] || null);
  }

  function showMessage(text) {
    const box = document.getElementById("board-message");
    if (!box) return;
    box.replaceChildren();
    if (!text) return;
    const alert = document.createElement("div");
    alert.className = "alert alert-danger alert-dismissible fade show shadow-sm";
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.dataset.bsDismiss = "alert";
    close.setAttribute("aria-label", box.dataset.closeLabel || "Close");
    alert.appendChild(close);
    box.appendChild(alert);
  }

  function onEnd(event) {
    const item = event.item;
    if (event.from === event.to && event.oldDraggableIndex === event.newDraggableIndex) return;
    const move = { item: item, from: event.from, oldIndex: event.oldDraggableIndex };
    let previous = item.previousElementSibling;
    while (previous && !previous.classList.contains("deal-card")) previous = previous.previousElementSibling;
    const values = {
      stage: event.to.dataset.stageId,
      version: item.dataset.version,
      after: previous ? previous.dataset.dealId : "",
    };
    if (event.to.dataset.stageKind === "lost" && event.from !== event.to) {
      askLostReason(item, function (reason) {
        if (reason === null) {
          snapBack(move);
          return;
        }
        values.lost_reason = reason;
        send(item, move, values);
      });
      return;
    }
    send(item, move, values);
  }

  function send(item, move, values) {
    pending.set(item, move);
    htmx.ajax("POST", item.dataset.moveUrl + window.location.search, {
      source: item,
      values: values,
      swap: "none",
    });
  }

  /* A drop on a "lost" column asks why in a dialog; ``done`` gets the reason, or null when cancelled. */
  function askLostReason(item, done) {
    const dialog = document.getElementById("lost-reason");
    const form = document.getElementById("lost-reason-form");
    const input = document.getElementById("lost-reason-input");
    let reason = null;
    dialog.querySelector("[data-testid=lost-deal-title]").textContent = item.getAttribute("aria-label");
    input.value = "";
    form.onsubmit = function (submit) {
      submit.preventDefault();
      reason = input.value.trim();
      if (!reason) return;
      bootstrap.Modal.getOrCreateInstance(dialog).hide();
    };
    dialog.addEventListener("shown.bs.modal", () => input.focus(), { once: true });
    dialog.addEventListener("hidden.bs.modal", () => done(reason), { once: true });
    bootstrap.Modal.getOrCreateInstance(dialog).show();
  }

  document.addEventListener("htmx:afterRequest", function (event) {
    const move = pending.get(event.detail.elt);
    if (!move) return;
    pending.delete(event.detail.elt);
    if (event.detail.successful) {
      showMessage("");
      return;
    }
    snapBack(move);
    const board = document.querySelector(".board");
    const xhr = event.detail.xhr;
    showMessage((xhr && xhr.status && xhr.responseText) || (board && board.dataset.errorText) || "Error");
  });

  function init(root) {
    if (!root || !root.querySelectorAll || typeof Sortable === "undefined") return;
    root.querySelectorAll(".board-cards").forEach(function (list) {
      if (list.dataset.sortable) return;
      list.dataset.sortable = "on";
      Sortable.create(list, {
        group: "deals",
        draggable: ".deal-card",
        animation: 150,
        ghostClass: "deal-card-ghost",
        delay: 200,
        delayOnTouchOnly: true,
        disabled: list.closest(".board").dataset.canEdit !== "true",
        onEnd: onEnd,
      });
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    init(document);
  });
  document.addEventListener("htmx:load", function (event) {
    init(event.detail.elt);
  });
})();
