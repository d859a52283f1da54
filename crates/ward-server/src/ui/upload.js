// Ward upload: sends the form with the session's CSRF token in a header and shows
// progress. The only script of the UI; every page reads without it.
(function () {
  var form = document.getElementById("upload-form");
  if (!form || !window.FormData || !window.XMLHttpRequest) return;
  var bar = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");
  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("action"));
    // The token is the form's hidden field (never part of a URL).
    var csrf = form.querySelector("input[name=csrf]");
    xhr.setRequestHeader("X-CSRF-Token", csrf ? csrf.value : "");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable && bar) { bar.max = e.total; bar.value = e.loaded; }
    };
    xhr.upload.onload = function () { if (status) status.textContent = "Uploaded; analysing on the server..."; };
    xhr.onload = function () {
      if (xhr.responseURL && xhr.status < 400) { window.location.assign(xhr.responseURL); }
      else if (status) { status.textContent = "Upload refused (" + xhr.status + "): " + xhr.responseText.slice(0, 300); }
    };
    xhr.onerror = function () { if (status) status.textContent = "The upload failed: the server could not be reached."; };
    if (status) status.textContent = "Uploading...";
    xhr.send(new FormData(form));
  });
})();
