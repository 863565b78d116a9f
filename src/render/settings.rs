//! The image, container and task inputs the rendering applies, checked with
//! the rest of the configuration.

use crate::inputs::{
    names, pairs, parse_command, parse_pairs, split_lines, text, Problems, RawInputs,
};
use crate::render::{ContainerSettings, RenderSpec, TaskSettings};

pub(crate) fn from_inputs(inputs: &RawInputs, problems: &mut Problems) -> RenderSpec {
    let container = ContainerSettings {
        environment: pairs(inputs, "environment-variables", "NAME=value", problems),
        secrets: pairs(inputs, "secrets", "NAME=valueFrom", problems),
        docker_labels: pairs(inputs, "docker-labels", "key=value", problems),
        log_driver: text(inputs, "log-configuration-log-driver"),
        log_options: pairs(inputs, "log-configuration-options", "key=value", problems),
        command: inputs
            .get("command")
            .and_then(|v| problems.check("command", parse_command("command", v))),
        env_files: inputs
            .get("env-files")
            .map(|v| split_lines(v).into_iter().map(String::from).collect()),
    };
    RenderSpec {
        container_names: names(inputs, "container-name"),
        image: inputs.get("image").and_then(|v| {
            problems.check("image", validate_image("image", v).map(|()| v.to_owned()))
        }),
        images: inputs
            .get("images")
            .and_then(|v| problems.check("images", parse_images(v)))
            .unwrap_or_default(),
        container,
        task: TaskSettings {
            task_role_arn: text(inputs, "task-role-arn"),
            execution_role_arn: text(inputs, "execution-role-arn"),
            cpu: text(inputs, "cpu"),
            memory: text(inputs, "memory"),
        },
        keep_null_keys: names(inputs, "keep-null-value-keys"),
    }
}

fn parse_images(value: &str) -> Result<Vec<(String, String)>, String> {
    let images = parse_pairs("images", "container=image", value)?;
    for (_, image) in &images {
        validate_image("images", image)?;
    }
    Ok(images)
}

/// Rejects what no registry accepts: blanks, control characters, upper-case
/// repository names, malformed tags or digests.
fn validate_image(input: &str, image: &str) -> Result<(), String> {
    let fail = |why: &str| {
        Err(format!(
            "{input}: {image:?} is not a valid image reference ({why})"
        ))
    };
    if image.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return fail("it contains blanks");
    }
    if image.len() > 255 {
        return fail("longer than 255 characters");
    }
    let (name_and_tag, digest) = match image.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (image, None),
    };
    let (name, tag) = match name_and_tag.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => (name, Some(tag)),
        _ => (name_and_tag, None),
    };
    let repository = name.split_once('/').map_or(name, |(registry, path)| {
        if registry.contains('.') || registry.contains(':') || registry == "localhost" {
            path
        } else {
            name
        }
    });
    if repository.is_empty() || repository.split('/').any(str::is_empty) {
        return fail("empty repository name");
    }
    if !repository
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-/".contains(c))
    {
        return fail("repository names are lower-case letters, digits and . _ - /");
    }
    if let Some(tag) = tag {
        if tag.is_empty()
            || tag.len() > 128
            || !tag
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
        {
            return fail("a tag is 1 to 128 letters, digits, . _ -");
        }
    }
    if let Some(digest) = digest {
        let valid = digest.split_once(':').is_some_and(|(algorithm, hex)| {
            !algorithm.is_empty() && hex.len() >= 32 && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if !valid {
            return fail("a digest is algorithm:hex, like sha256:…");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_images() {
        for image in [
            "nginx",
            "nginx:1.27-alpine",
            "public.ecr.aws/nginx/nginx:1",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "localhost:5000/app:dev",
            "ghcr.io/org/app:1",
        ] {
            assert_eq!(validate_image("image", image), Ok(()), "{image}");
        }
    }
}
