#!/usr/bin/python3
"""SKD fixtures: torchdistill torchdistill/losses/mid_level.py (commit 3e4373c) SKDInstanceLoss
and SKDDirectionLoss, transcribed, combined as the sample config
configs/sample/ilsvrc2012/skd/resnet18_from_resnet34.yaml does (WeightedSumLoss, weights 1 and 1,
tikhonov 0.1). The io_dict plumbing is replaced by plain tensors.

Run: /usr/bin/python3 tools/golden/objectives/skd.py
"""
import torch
from torch.nn.functional import normalize

from common import generator, logits, write_fixture


def skd_instance(student_logits, teacher_logits, temperature):
    log_p_student = torch.log_softmax(student_logits / temperature, dim=1)
    p_teacher = torch.softmax(teacher_logits / temperature, dim=1)
    return torch.nn.functional.kl_div(log_p_student, p_teacher, reduction='batchmean')


def skd_direction(student_logits, teacher_logits, tikhonov):
    student_gram = normalize(student_logits, p=2, dim=1)
    teacher_gram = normalize(teacher_logits, p=2, dim=1)
    student_gram = torch.mm(student_gram, student_gram.t())
    teacher_gram = torch.mm(teacher_gram, teacher_gram.t())
    diff = student_gram - teacher_gram
    cov_matrix = torch.cov(diff.t()) + tikhonov * torch.eye(diff.size(1), device=diff.device,
                                                            dtype=diff.dtype)
    cholesky_factor = torch.linalg.cholesky(cov_matrix)
    inv_cov_matrix = torch.cholesky_inverse(cholesky_factor)
    mahalanobis_dist = torch.einsum('bi,ij,bj->b', diff, inv_cov_matrix, diff)
    return torch.sqrt(mahalanobis_dist).mean()


def main():
    for T in (1, 2, 4, 8):
        g = generator(600 + T)
        inputs = {'student.logits': logits(g, 16, 20), 'teacher.logits': logits(g, 16, 20)}

        def terms(v, T=T):
            return {'instance': skd_instance(v['student.logits'], v['teacher.logits'], T),
                    'direction': skd_direction(v['student.logits'], v['teacher.logits'], 0.1)}

        write_fixture(f'skd_T{T}', 'skd', {'T': T}, inputs,
                      lambda v, terms=terms: sum(terms(v).values()), parts_fn=terms)
    # Weighted terms and another Tikhonov factor.
    g = generator(610)
    inputs = {'student.logits': logits(g, 12, 10), 'teacher.logits': logits(g, 12, 10)}

    def weighted(v):
        return {'instance': 0.5 * skd_instance(v['student.logits'], v['teacher.logits'], 4.0),
                'direction': 2.0 * skd_direction(v['student.logits'], v['teacher.logits'], 0.03)}

    write_fixture('skd_weighted', 'skd',
                  {'tikhonov': 0.03, 'instance_weight': 0.5, 'direction_weight': 2.0}, inputs,
                  lambda v: sum(weighted(v).values()), parts_fn=weighted)


if __name__ == '__main__':
    main()
