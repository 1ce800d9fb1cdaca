// The before/after slider of a restored photo: the slider sets where the "after" image starts.
// Listening on the document keeps it working when htmx swaps the creation's status in.
document.addEventListener("input", (event) => {
  const slider = event.target.closest(".compare-slider");
  if (slider) slider.closest(".compare").style.setProperty("--cut", `${slider.value}%`);
});
