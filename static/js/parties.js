// Party blocks: show the number fields of the chosen kind (a person's ID, an organisation's credit
// code and legal representative). Without JavaScript every field shows and the server ignores the
// other kind's fields.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-party-kind]").forEach(function (radio) {
    var block = radio.closest("fieldset.party-block, form");
    if (!block) { return; }
    function update() {
      var checked = block.querySelector("[data-party-kind]:checked");
      var kind = checked ? checked.value : "person";
      block.querySelectorAll("[data-party-for]").forEach(function (input) {
        var field = input.closest(".field");
        if (field) { field.hidden = input.getAttribute("data-party-for") !== kind; }
      });
    }
    radio.addEventListener("change", update);
    update();
  });
});
