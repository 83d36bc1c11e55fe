/* The rating form of the national scheme (templates/_rating.html): reasons appear for the
   lower levels; read() gives the body of POST …/rating. */
(function () {
  "use strict";

  function wire(form) {
    const tagged = form.dataset.tagged.split(",").map(Number);
    const tags = form.querySelector(".tags");
    form.addEventListener("change", () => {
      const level = read(form).level;
      tags.hidden = !tagged.includes(level);
      if (tags.hidden) tags.querySelectorAll("input").forEach((box) => { box.checked = false; });
    });
  }

  function read(form) {
    const level = form.querySelector("input[name=level]:checked");
    const comment = form.querySelector("textarea[name=comment]");
    return {
      level: level ? Number(level.value) : null,
      tags: [...form.querySelectorAll("input[name=tag]:checked")].map((box) => box.value),
      comment: comment && comment.value.trim() ? comment.value.trim() : null,
    };
  }

  window.HallRating = { wire, read };
})();
