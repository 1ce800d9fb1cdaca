// The upload page's face picker. When one photo is chosen and the style takes a subject, the
// photo is shown (the browser turns it upright from its EXIF, as the server does), the server
// finds the faces in it (studio:photo-faces) and each becomes a button over the photo. Tapping
// a face, or any other point of the photo, sets the hidden "subject" field to that point as
// "x,y" fractions of the photo. Boxes and the marker are placed in percentages, so they follow
// the photo as it scales; a tap is measured against the photo's displayed size.
document.addEventListener("DOMContentLoaded", () => {
  const picker = document.querySelector(".face-picker");
  if (!picker) return;
  const form = picker.closest("form");
  const fileInput = form.querySelector("input[name=photo]");
  const engine = form.querySelector("select[name=engine]");
  const subject = picker.querySelector("input[name=subject]");
  const stage = picker.querySelector(".face-picker-stage");
  const photo = stage.querySelector(".face-picker-photo");
  const marker = stage.querySelector(".face-picker-marker");
  const prompt = picker.querySelector(".face-picker-prompt");
  let asked = 0; // the latest request: an older answer, for a photo since replaced, is ignored
  let objectUrl = null;

  const fraction = (value) => Math.min(1, Math.max(0, value)).toFixed(4);
  const say = (text) => { prompt.textContent = text; };

  function faceButtons() { return [...stage.querySelectorAll("button.face")]; }

  function choose(button, point) {
    faceButtons().forEach((face) => face.setAttribute("aria-pressed", String(face === button)));
    marker.hidden = button !== null || point === null;
    if (point === null) { subject.value = ""; return; }
    subject.value = `${fraction(point.x)},${fraction(point.y)}`;
    if (!marker.hidden) {
      marker.style.left = `${point.x * 100}%`;
      marker.style.top = `${point.y * 100}%`;
    }
  }

  function reset() {
    asked += 1;
    subject.value = "";
    faceButtons().forEach((face) => face.remove());
    marker.hidden = true;
    stage.hidden = true;
    say("");
    if (objectUrl) URL.revokeObjectURL(objectUrl);
    objectUrl = null;
  }

  function showFaces(faces) {
    faces.forEach((face, index) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "face";
      const label = picker.dataset.faceLabel.replace("{n}", index + 1);
      button.setAttribute("aria-label", label);
      button.setAttribute("aria-pressed", "false");
      button.innerHTML = "<span aria-hidden='true'></span>";
      button.firstChild.textContent = label;
      Object.assign(button.style, { left: `${face.x * 100}%`, top: `${face.y * 100}%`, width: `${face.w * 100}%`, height: `${face.h * 100}%` });
      if (face.y < 0.1) button.classList.add("label-inside"); // no room above it in the photo
      button.addEventListener("click", (event) => {
        event.stopPropagation();
        choose(button, { x: face.x + face.w / 2, y: face.y + face.h / 2 });
        say(prompt.dataset.one);
      });
      stage.insertBefore(button, marker);
    });
    if (faces.length === 1) {
      faceButtons()[0].setAttribute("aria-pressed", "true"); // the engine finds it by itself
      say(prompt.dataset.one);
    } else {
      say(faces.length ? prompt.dataset.many : prompt.dataset.none);
    }
  }

  async function look() {
    reset();
    picker.querySelectorAll(".error").forEach((error) => error.remove()); // about the photo sent before
    const files = fileInput.files;
    if (picker.hidden || !files || files.length !== 1) return;
    const ticket = asked;
    objectUrl = URL.createObjectURL(files[0]);
    photo.src = objectUrl;
    try {
      await photo.decode(); // a format the browser cannot show (HEIC): no picker
    } catch {
      if (ticket === asked) reset();
      return;
    }
    if (ticket !== asked) return;
    stage.hidden = false;
    say(prompt.dataset.looking);
    const body = new FormData();
    body.append("csrfmiddlewaretoken", form.querySelector("input[name=csrfmiddlewaretoken]").value);
    body.append("photo", files[0]);
    let found;
    try {
      const response = await fetch(picker.dataset.facesUrl, { method: "POST", body, headers: { Accept: "application/json" } });
      found = await response.json();
      if (!response.ok) found = { faces: [], error: found.error };
    } catch {
      found = { faces: [] }; // the point can still be tapped
    }
    if (ticket !== asked) return;
    showFaces(found.faces || []);
    if (found.error) say(found.error);
  }

  stage.addEventListener("click", (event) => {
    const box = photo.getBoundingClientRect();
    if (!box.width || !box.height) return;
    choose(null, { x: (event.clientX - box.left) / box.width, y: (event.clientY - box.top) / box.height });
    say(prompt.dataset.point);
  });
  fileInput.addEventListener("change", look);
  // The page's own script, whose listener came first, has shown or hidden the picker by then.
  engine.addEventListener("change", look);
});
